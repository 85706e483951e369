#!/usr/bin/env bash
# The data plane against a real engine: flocker-proxy in single-engine mode, driven by the
# real docker CLI v28, docker-py and docker-compose. Each flow must give what the engine
# gives directly.
source "$(dirname "$0")/lib.sh"
e2e_begin dataplane 1
start_proxy --engine "$(flock_engine_sock 1)" --grace 3

IMG=$FLOCK_BUSYBOX
D() { docker -H "$(flock_engine_tcp 1)" "$@"; }
work=$FLOCK_DIR/work
mkdir -p "$work"

echo "== version, info, ping over both listeners"
expect_eq "version: same server" "$(D version -f '{{.Server.Version}} {{.Server.APIVersion}}')" \
  "$(P version -f '{{.Server.Version}} {{.Server.APIVersion}}')"
expect_eq "info: same Name and ID" "$(D info -f '{{.Name}} {{.ID}}')" "$(P info -f '{{.Name}} {{.ID}}')"
expect_eq "unix socket listener" "$(D info -f '{{.ID}}')" "$(docker -H "$PROXY_SOCK" info -f '{{.ID}}')"
expect_eq "unix socket mode 0660" "660" "$(stat -c %a "${PROXY_SOCK#unix://}")"

echo "== pull, run"
expect_eq "pull -q" "$IMG" "$(P pull -q "$IMG")"
expect_eq "run --rm echo" "hello" "$(P run --rm "$IMG" echo hello)"
expect_eq "run -i with piped stdin" "$(printf 'one\ntwo')" "$(printf 'one\ntwo\n' | P run --rm -i "$IMG" cat)"
head -c 3000000 /dev/urandom >"$work/stdin.bin"
expect_eq "run -i with 3 MB of stdin, byte for byte" "$(sha256sum <"$work/stdin.bin" | cut -c1-64)" \
  "$(P run --rm -i "$IMG" cat <"$work/stdin.bin" | sha256sum | cut -c1-64)"
expect_eq "run -i stdin EOF reaches the container (wc)" "3000000" \
  "$(P run --rm -i "$IMG" wc -c <"$work/stdin.bin" | tr -d ' ')"
# A terminal session (under `script`): what the CLI prints must equal what it prints direct.
# The CLI's terminal sometimes echoes a "^@" before or after the output, direct or not.
on_tty() { script -qec "docker -H $1 $2" /dev/null | tr -d '\r' | sed 's/\^@//g'; }
out=$(on_tty "$PROXY" "run --rm -t $IMG sh -c 'tty >/dev/null && echo on-a-tty'")
expect_match "run -t (under script)" "^on-a-tty" "$out"
expect_eq "run -t: same as direct" "$(on_tty "$(flock_engine_tcp 1)" "run --rm -t $IMG sh -c 'tty >/dev/null && echo on-a-tty'")" "$out"
P run -d --name e2e-exit "$IMG" sh -c 'exit 3' >/dev/null
expect_eq "wait returns the exit code" "3" "$(P wait e2e-exit)"
set +e
P run --rm "$IMG" sh -c 'exit 7'
code=$?
set -e
expect_eq "run passes the exit code" "7" "$code"

echo "== exec, logs"
P run -d --name e2e-long "$IMG" sh -c 'echo started; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done' >/dev/null
expect_eq "exec" "x" "$(P exec e2e-long echo x)"
out=$(on_tty "$PROXY" "exec -it e2e-long sh -c 'tty >/dev/null && echo exec-tty'")
expect_match "exec -it (under script)" "^exec-tty" "$out"
expect_eq "exec -it: same as direct" "$(on_tty "$(flock_engine_tcp 1)" "exec -it e2e-long sh -c 'tty >/dev/null && echo exec-tty'")" "$out"
expect_eq "exec -i with stdin" "piped" "$(echo piped | P exec -i e2e-long cat)"
expect_eq "logs" "started" "$(P logs e2e-long | head -1)"
timeout 2 docker -H "$PROXY" logs -f --since 0 e2e-long >"$work/follow.txt" 2>&1 || true
first=$(grep -c tick "$work/follow.txt" || true)
expect_match "logs -f streams new lines while following" "^[0-9]+$" "$first"
timeout 2 docker -H "$PROXY" logs -f e2e-long >"$work/follow2.txt" 2>&1 || true
last_direct=$(D logs e2e-long | tail -1)
last_proxy_follow=$(tail -1 "$work/follow2.txt")
expect_match "logs -f delivered lines written during the follow" "^tick [0-9]+$" "$last_proxy_follow"
[ "$(grep -c tick "$work/follow2.txt")" -ge 12 ] && _record 1 "logs -f: at least 12 ticks in 2 s" || _record 0 "logs -f: at least 12 ticks in 2 s" "$(wc -l <"$work/follow2.txt") lines"

echo "== attach (CLI and websocket)"
P run -d -i --name e2e-cat "$IMG" cat >/dev/null
expect_eq "attach/ws (websocket) relays both ways" "over websocket" \
  "$(/usr/bin/python3 "$REPO/tests/e2e/attach_ws.py" "${PROXY#tcp://}" e2e-cat)"
P run -d --name e2e-att "$IMG" sh -c 'sleep 1; echo attached-output' >/dev/null
expect_eq "docker attach streams the output" "attached-output" "$(timeout 20 docker -H "$PROXY" attach e2e-att)"

echo "== cp, export, stats"
echo "copied in" >"$work/in.txt"
P cp "$work/in.txt" e2e-long:/tmp/in.txt
expect_eq "cp into a container" "copied in" "$(P exec e2e-long cat /tmp/in.txt)"
P exec e2e-long sh -c 'echo copied out > /tmp/out.txt'
P cp e2e-long:/tmp/out.txt "$work/out.txt"
expect_eq "cp out of a container" "copied out" "$(cat "$work/out.txt")"
P run --name e2e-big "$IMG" dd if=/dev/urandom of=/big bs=1M count=50 2>/dev/null
P export e2e-big >"$work/via-proxy.tar"
D export e2e-big >"$work/direct.tar"
expect_eq "export of a 50 MB container: identical to direct" "$(sha256sum <"$work/direct.tar" | cut -c1-64)" \
  "$(sha256sum <"$work/via-proxy.tar" | cut -c1-64)"
expect_match "export holds the 50 MB file" " 52428800 " "$(tar -tvf "$work/via-proxy.tar" big)"
expect_eq "stats --no-stream" "e2e-long" "$(P stats --no-stream --format '{{.Name}}' e2e-long)"

echo "== build, save | load"
mkdir -p "$work/ctx"
printf 'FROM %s\nCOPY hello.txt /hello.txt\nRUN echo built >> /hello.txt\nCMD ["cat", "/hello.txt"]\n' "$IMG" >"$work/ctx/Dockerfile"
echo "context file" >"$work/ctx/hello.txt"
check "build (DOCKER_BUILDKIT=0)" env DOCKER_BUILDKIT=0 docker -H "$PROXY" build -q -t e2e-built "$work/ctx"
expect_eq "the built image runs" "$(printf 'context file\nbuilt')" "$(P run --rm e2e-built)"
P save e2e-built >"$work/saved.tar"
expect_eq "save: identical to direct" "$(D save e2e-built | sha256sum | cut -c1-64)" "$(sha256sum <"$work/saved.tar" | cut -c1-64)"
P rmi e2e-built >/dev/null
check "load" sh -c "docker -H $PROXY load <'$work/saved.tar'"
expect_eq "the loaded image runs" "$(printf 'context file\nbuilt')" "$(P run --rm e2e-built)"
P rmi e2e-built >/dev/null
check "import from stdin" sh -c "docker -H $PROXY import - e2e-imported <'$work/direct.tar'"
expect_eq "the imported image holds the file" "52428800" "$(P run --rm e2e-imported stat -c %s /big)"

echo "== events"
since=$(date +%s)
P run --rm --name e2e-ev "$IMG" true
sleep 1
until_ts=$(($(date +%s) + 1))
direct=$(D events --since "$since" --until "$until_ts" --filter container=e2e-ev --format '{{.Action}}' | tr '\n' ' ')
proxied=$(P events --since "$since" --until "$until_ts" --filter container=e2e-ev --format '{{.Action}}' | tr '\n' ' ')
expect_eq "events --since/--until: same as direct" "$direct" "$proxied"
expect_match "events saw the container's life" "start .*die" "$proxied"

echo "== rm -f"
P rm -f e2e-long e2e-exit e2e-big e2e-cat e2e-att >/dev/null
expect_eq "rm -f removed them" "" "$(P ps -aq --filter name=e2e-)"

echo "== docker-py"
check "docker-py script" /usr/bin/python3 "$REPO/tests/e2e/dockerpy_smoke.py" "${PROXY/tcp:/http:}" "$IMG"

echo "== docker-compose"
compose_two_services "$work/compose"

echo "== ping headers"
engine=$(flock_engine_tcp 1)
direct=$(curl -sI "http://${engine#tcp://}/_ping" | grep -iE '^(api-version|ostype|docker-experimental|builder-version|cache-control|pragma):' | sort | tr -d '\r')
proxied=$(curl -sI "http://${PROXY#tcp://}/_ping" | grep -iE '^(api-version|ostype|docker-experimental|builder-version|cache-control|pragma):' | sort | tr -d '\r')
expect_eq "HEAD /_ping: the negotiation headers of the engine" "$direct" "$proxied"
expect_match "HEAD /_ping carries Api-Version" "Api-Version: 1.41" "$proxied"

echo "== errors"
bad=$(curl -s -X POST "http://${PROXY#tcp://}/v1.41/containers/create" -H 'Content-Type: application/json' -d '{not json')
expect_match "bad JSON gets the engine's own error" '"message"' "$bad"
expect_match "an unknown container: the engine's 404" "Error response from daemon: No such container: nope" "$(P logs nope 2>&1 || true)"
set +e
"$BUILD/proxy/flocker-proxy" --engine 'ftp://x' >/dev/null 2>&1
expect_eq "bad flags exit with code 2" "2" "$?"
set -e

echo "== graceful shutdown with a live stream"
P run -d --name e2e-tick "$IMG" sh -c 'while true; do echo tick; sleep 0.2; done' >/dev/null
docker -H "$PROXY" logs -f e2e-tick >"$work/grace.txt" 2>&1 &
follower=$!
sleep 1
kill -TERM "$PROXY_PID"
sleep 1
before=$(grep -c tick "$work/grace.txt")
sleep 1
after=$(grep -c tick "$work/grace.txt")
[ "$after" -gt "$before" ] && _record 1 "logs -f keeps streaming during the grace period" || _record 0 "logs -f keeps streaming during the grace period" "$before -> $after"
expect_match "no new connections after SIGTERM" "Cannot connect|connection refused|error during connect" "$(docker -H "$PROXY" version 2>&1 || true)"
wait "$PROXY_PID" || true
kill "$follower" 2>/dev/null || true
expect_match "the proxy logs its shutdown" "grace period over: closing 1 connection" "$(cat "$FLOCK_DIR/proxy.log")"
D rm -f e2e-tick >/dev/null

echo "== the proxy's access log"
expect_match "access log lines carry method, path, status, bytes, engine, id" \
  "POST /v1.41/containers/create 201 in=[0-9]+ out=[0-9]+ [0-9.]+ms engine=unix://.* id=" "$(cat "$FLOCK_DIR/proxy.log")"
e2e_end
