#!/usr/bin/env bash
# Security against real engines and the real docker CLI: TLS at every hop (client -> proxy
# with client certificates, proxy -> a --tlsverify engine, proxy -> decider with mutual
# TLS), an Authorize decider that denies exec, and the built-in policy refusing host access.
# Certificates are made here with openssl (tests/e2e/certs.sh).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/certs.sh"
e2e_begin security 2

PKI=$FLOCK_DIR/pki
make_test_certs "$PKI" "$(flock_engine_ip 2)"  # engine 2 serves this certificate at its address
# Engine 2 again, now answering only TLS with client certificates on its tcp port.
flock_engine_stop 2
FLOCK_ENGINE_ARGS="--tlsverify --tlscacert $PKI/ca.pem --tlscert $PKI/server-cert.pem --tlskey $PKI/server-key.pem" \
  flock_engine_start 2

DECIDER=127.0.0.1:$((FLOCK_PORT_BASE + 20))
cat >"$FLOCK_DIR/hosts.txt" <<HOSTS
$(flock_engine_tcp 1) e1
$(flock_engine_tcp 2) e2 tls-ca=$PKI/ca.pem tls-cert=$PKI/proxy-cert.pem tls-key=$PKI/proxy-key.pem
HOSTS
"$BUILD/sdk/decider/flocker-decider" --listen "$DECIDER" --hosts-file "$FLOCK_DIR/hosts.txt" --deny exec \
  --tls-cert "$PKI/server-cert.pem" --tls-key "$PKI/server-key.pem" --tls-ca "$PKI/ca.pem" \
  >"$FLOCK_DIR/decider.log" 2>&1 </dev/null &
E2E_PIDS+=("$!")

PORT=$((FLOCK_PORT_BASE + 40))
SOCK=$FLOCK_DIR/flocker.sock
"$BUILD/proxy/flocker-proxy" --listen "tcp://127.0.0.1:$PORT" --listen "unix://$SOCK" --unix-socket-mode 0600 \
  --tls-cert "$PKI/server-cert.pem" --tls-key "$PKI/server-key.pem" --tls-ca "$PKI/ca.pem" \
  --decider "$DECIDER" --decider-tls-ca "$PKI/ca.pem" --decider-tls-cert "$PKI/proxy-cert.pem" \
  --decider-tls-key "$PKI/proxy-key.pem" --authorize --health-interval 0.5 --log-level debug \
  >"$FLOCK_DIR/proxy.log" 2>&1 </dev/null &
E2E_PIDS+=("$!")

# The stock CLI, as a user would set it up.
P() { DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=$PKI/client docker -H "tcp://127.0.0.1:$PORT" "$@"; }
as() { local who=$1; shift; DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=$PKI/$who docker -H "tcp://127.0.0.1:$PORT" "$@"; }
cu() { curl -s --cacert "$PKI/ca.pem" --cert "$PKI/client/cert.pem" --key "$PKI/client/key.pem" "$@"; }
healthy=""
for _ in $(seq 1 100); do
  healthy=$(cu "https://127.0.0.1:$PORT/info" | grep -o '"Healthy"' | wc -l || true)
  [ "$healthy" = 2 ] && break
  sleep 0.2
done
IMG=$FLOCK_BUSYBOX

echo "== TLS: the docker CLI with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH"
expect_eq "both engines healthy, the second one over TLS with the proxy's client certificate" "2" "$healthy"
check "docker ps over TLS" P ps
expect_eq "docker run (twice: round-robin puts one on each engine)" "hello hello" \
  "$(P run --rm "$IMG" echo hello) $(P run --rm "$IMG" echo hello)"
P run -d --name sec-a "$IMG" sleep 600 >/dev/null
P run -d --name sec-b "$IMG" sleep 600 >/dev/null
expect_eq "a container landed on the TLS engine (its own unix socket lists it)" "1" \
  "$(docker -H "$(flock_engine_sock 2)" ps -q --filter name=sec- | wc -l)"
on_e2=$(docker -H "$(flock_engine_sock 2)" ps --format '{{.Names}}' --filter name=sec-)
expect_eq "inspect through the TLS engine" "true" "$(P inspect -f '{{.State.Running}}' "$on_e2")"
# stdin's end crosses TLS both ways: the CLI's close_notify to the proxy, and to the TLS engine.
expect_eq "run -i: piped stdin and its EOF over TLS (twice: one lands on the TLS engine)" "piped piped" \
  "$(echo piped | P run --rm -i "$IMG" cat) $(echo piped | P run --rm -i "$IMG" cat)"
expect_match "the proxy logs the client's certificate subject" "subject=CN=e2e-user" "$(cat "$FLOCK_DIR/proxy.log")"

echo "== TLS: clients without an acceptable certificate are refused in the handshake"
set +e
out=$(docker -H "tcp://127.0.0.1:$PORT" --tls --tlscacert "$PKI/ca.pem" ps 2>&1)
code_nocert=$?
out_other=$(as other ps 2>&1)
code_other=$?
out_expired=$(as expired ps 2>&1)
code_expired=$?
out_plain=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/_ping" 2>&1)
set -e
expect_eq "no client certificate: refused" "1" "$code_nocert"
expect_match "  ...with a TLS error" "(certificate|tls|TLS|remote error)" "$out"
expect_eq "a certificate from another CA: refused" "1" "$code_other"
expect_match "  ...with a TLS error" "(certificate|tls|TLS|remote error)" "$out_other"
expect_eq "an expired certificate: refused" "1" "$code_expired"
expect_match "  ...with a TLS error" "(certificate|tls|TLS|remote error)" "$out_expired"
expect_eq "plain HTTP on the TLS port: no answer" "000" "$out_plain"
expect_match "the proxy logs why (no certificate)" "peer did not return a certificate" "$(cat "$FLOCK_DIR/proxy.log")"
expect_match "the proxy logs why (expired)" "certificate has expired" "$(cat "$FLOCK_DIR/proxy.log")"
expect_eq "the unix socket is 0600 as asked" "600" "$(stat -c %a "$SOCK")"

echo "== Authorize: the decider denies exec, the rest works"
set +e
out=$(P exec sec-a echo hi 2>&1)
code=$?
set -e
expect_eq "docker exec fails" "1" "$code"
expect_match "  ...with the decider's message" "flocker-decider: exec requests are not allowed" "$out"
check "docker ps still works" P ps
check "docker logs still works" P logs sec-a
expect_match "the decider saw the client's certificate subject" "from CN=e2e-user" "$(cat "$FLOCK_DIR/decider.log")"

echo "== the built-in policy: host access refused"
set +e
out=$(P run --rm --privileged "$IMG" true 2>&1)
code=$?
out_mount=$(P run --rm -v /etc:/host-etc "$IMG" true 2>&1)
out_net=$(P run --rm --network host "$IMG" true 2>&1)
out_cap=$(P run --rm --cap-add SYS_ADMIN "$IMG" true 2>&1)
set -e
expect_eq "docker run --privileged fails" "125" "$code"
expect_match "  ...saying why" "privileged container is not allowed" "$out"
expect_match "docker run -v /etc:/host-etc is refused" "mounting the host's /etc" "$out_mount"
expect_match "docker run --network host is refused" "NetworkMode=host" "$out_net"
expect_match "docker run --cap-add is refused" "adding capabilities" "$out_cap"
expect_eq "none of them was created on any engine" "0" \
  "$(for i in 1 2; do docker -H "$(flock_engine_sock "$i")" ps -aq --filter status=created; done | wc -l)"

echo "== hardening: path tricks, secrets"
expect_eq "/v1.41/../containers/json: 400" "400" \
  "$(cu --path-as-is -o /dev/null -w '%{http_code}' "https://127.0.0.1:$PORT/v1.41/../containers/json")"
expect_eq "/c%6Fntainers/json: 400" "400" \
  "$(cu -o /dev/null -w '%{http_code}' "https://127.0.0.1:$PORT/c%6Fntainers/json")"
expect_eq "//containers/json: 400" "400" \
  "$(cu --path-as-is -o /dev/null -w '%{http_code}' "https://127.0.0.1:$PORT//containers/json")"
SECRET=c2VjcmV0LXRva2VuLWZvci1lMmU
cu -o /dev/null -X POST -H "X-Registry-Auth: $SECRET" "https://127.0.0.1:$PORT/v1.41/images/create?fromImage=$IMG" || true
cu -o /dev/null -X POST -H 'Content-Type: application/json' -d '{"username":"u","password":"hunter2-e2e"}' \
  "https://127.0.0.1:$PORT/v1.41/auth" || true
expect_eq "no registry credential in the proxy's debug log" "0" "$(grep -c -e "$SECRET" -e hunter2-e2e "$FLOCK_DIR/proxy.log" || true)"
expect_eq "nor in the decider's" "0" "$(grep -c -e "$SECRET" -e hunter2-e2e "$FLOCK_DIR/decider.log" || true)"

echo "== the decider channel: mutual TLS"
# A second proxy that trusts the decider but has no client certificate gets no inventory.
"$BUILD/proxy/flocker-proxy" --listen "tcp://127.0.0.1:$((PORT + 1))" --decider "$DECIDER" \
  --decider-tls-ca "$PKI/ca.pem" >"$FLOCK_DIR/proxy-nocert.log" 2>&1 </dev/null &
E2E_PIDS+=("$!")
sleep 3
expect_match "without a client certificate the decider refuses the proxy" "List failed" \
  "$(cat "$FLOCK_DIR/proxy-nocert.log")"
expect_eq "...so it knows no engine" "0" \
  "$(docker -H "tcp://127.0.0.1:$((PORT + 1))" info -f '{{.Containers}}' 2>/dev/null || echo 0)"

echo "== single-engine mode: engine TLS from flags"
"$BUILD/proxy/flocker-proxy" --listen "tcp://127.0.0.1:$((PORT + 2))" --engine "$(flock_engine_tcp 2)" \
  --engine-tls-ca "$PKI/ca.pem" --engine-tls-cert "$PKI/proxy-cert.pem" --engine-tls-key "$PKI/proxy-key.pem" \
  >"$FLOCK_DIR/proxy-engine-tls.log" 2>&1 </dev/null &
E2E_PIDS+=("$!")
"$BUILD/proxy/flocker-proxy" --listen "tcp://127.0.0.1:$((PORT + 3))" --engine "$(flock_engine_tcp 2)" \
  --engine-tls-ca "$PKI/ca.pem" >"$FLOCK_DIR/proxy-engine-nocert.log" 2>&1 </dev/null &
E2E_PIDS+=("$!")
sleep 1
expect_eq "--engine-tls-ca/cert/key: the --tlsverify engine answers through the proxy" \
  "$(docker -H "$(flock_engine_sock 2)" info -f '{{.ID}}')" "$(docker -H "tcp://127.0.0.1:$((PORT + 2))" info -f '{{.ID}}' 2>&1)"
set +e
out=$(docker -H "tcp://127.0.0.1:$((PORT + 3))" info -f '{{.ID}}' 2>&1)
set -e
expect_match "without the client certificate the engine refuses the proxy: the user gets a 502 naming it" "engine $(flock_engine_tcp 2)" "$out"
expect_match "  ...and the proxy logs the engine's TLS alert" "alert bad certificate" \
  "$(cat "$FLOCK_DIR/proxy-engine-nocert.log")"

P rm -f sec-a sec-b >/dev/null
e2e_end
