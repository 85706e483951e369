#!/usr/bin/env bash
# flocker run like a service, against 3 real engines: the container image (deploy/image),
# built offline into engine 1 and run there with the host's network; the compose file
# (deploy/compose) on engine 1; the systemd units (deploy/systemd, systemd-analyze verify);
# socket activation (--listen fd://) under systemd-socket-activate. Through each containerized
# proxy, from the host: docker run, docker ps across engines, docker info.
source "$(dirname "$0")/lib.sh"
e2e_begin service 3
started=$SECONDS

E1=$(flock_engine_sock 1)
IP1=$(flock_engine_ip 1)
DECIDER_PORT=$((FLOCK_PORT_BASE + 20))  # in engine 1's network
IMAGE_PROXY_PORT=$((FLOCK_PORT_BASE + 41))
COMPOSE_PROXY_PORT=$((FLOCK_PORT_BASE + 42))
write_hosts 3 zone=a zone=b zone=c
chmod 0644 "$FLOCK_DIR/hosts.txt"  # the image runs as 65532

D1() { docker -H "$E1" "$@"; }
# A command in engine 1's network namespace (where its --network host containers are).
in_engine1() {
  if flock_netns; then nsenter "--net=/run/netns/$(flock_netns_name 1)" "$@"; else "$@"; fi
}

# Through $PROXY: a run that pulls, three containers spread over several engines, the flock
# in docker info; then they are removed. $1 names them; the rest is a command printing the
# proxy's log (shown when it does not answer).
smoke() {
  local what=$1 n spread
  shift
  if ! flock_wait_ping "$PROXY" 30; then
    _record 0 "$what: the proxy answers at $PROXY" "$("$@" 2>&1 | tail -20)"
    return 0
  fi
  _record 1 "$what: the proxy answers at $PROXY"
  wait_healthy_hosts 3 || true
  # (the pull's progress goes to the clients' log)
  expect_eq "$what: docker run --rm echo" "hi" "$(P run --rm "$FLOCK_BUSYBOX" echo hi 2>>"$FLOCK_DIR/clients.log")"
  for n in 1 2 3; do
    P run -d --name "$what-$n" --label "e2e=$what" "$FLOCK_BUSYBOX" sleep 600 >/dev/null || true
  done
  spread=$(P ps --filter "label=e2e=$what" --format '{{.Label "com.docker.flocker.host"}}' | sort -u | tr '\n' ' ')
  expect_match "$what: docker ps shows containers from several engines" "^e[123] e[123] " "$spread"
  expect_match "$what: docker info shows 3 hosts" "e1: tcp://.*e2: tcp://.*e3: tcp://" \
    "$(P info 2>/dev/null | tr '\n' ' ')"
  expect_eq "$what: docker info counts them" "3" "$(P info 2>/dev/null | grep -c '^ *e[123]: tcp://')"
  P rm -f "$what-1" "$what-2" "$what-3" >/dev/null 2>&1 || true
}

echo "== the image, built offline into engine 1"
if out=$(DOCKER_HOST=$E1 BUILD_DIR=$BUILD bash "$REPO/deploy/image/build.sh" 2>&1); then
  expect_match "deploy/image/build.sh: flocker:latest" "flocker:latest, [0-9]+ MiB" "$out"
  echo "       ${out##*$'\n'}"
else
  expect_eq "deploy/image/build.sh" "" "$out"
  e2e_end
fi
expect_eq "nothing was pulled: the engine holds only the image" "flocker" \
  "$(D1 images --format '{{.Repository}}' | sort -u | tr '\n' ' ' | sed 's/ $//')"
expect_eq "it runs as 65532, not root" "65532:65532" "$(D1 image inspect -f '{{.Config.User}}' flocker:latest)"
expect_match "flocker-proxy runs in it" "flocker-proxy: many Docker engines" \
  "$(D1 run --rm flocker:latest flocker-proxy --help 2>&1)"
expect_match "flocker-decider runs in it" "flocker-decider: the reference decider" \
  "$(D1 run --rm flocker:latest flocker-decider --help 2>&1)"
expect_match "no shell in it" "executable file not found|no such file" \
  "$(D1 run --rm flocker:latest sh -c true 2>&1 || true)"

echo "== decider and proxy from the image, on engine 1 with the host's network"
for i in 2 3; do
  check "engine 1's network reaches engine $i" in_engine1 curl -sf --max-time 5 "http://${FLOCK_LINK_NET}.$i:$FLOCK_ENGINE_PORT/_ping"
done
D1 run -d --name flocker-decider --network host -v "$FLOCK_DIR/hosts.txt:/etc/flocker/hosts.txt:ro" \
  flocker:latest flocker-decider --listen "127.0.0.1:$DECIDER_PORT" --hosts-file /etc/flocker/hosts.txt >/dev/null
D1 run -d --name flocker-proxy --network host flocker:latest flocker-proxy \
  --listen "tcp://0.0.0.0:$IMAGE_PROXY_PORT" --decider "127.0.0.1:$DECIDER_PORT" --health-interval 0.5 >/dev/null
PROXY=tcp://$IP1:$IMAGE_PROXY_PORT
smoke image D1 logs flocker-proxy
proxy_pid=$(D1 inspect -f '{{.State.Pid}}' flocker-proxy)
expect_eq "the proxy's process is not root" "65532" "$(awk '/^Uid:/ {print $2}' "/proc/$proxy_pid/status")"
D1 logs flocker-proxy >"$FLOCK_DIR/proxy.log" 2>&1
check "the containers stop on SIGTERM" D1 stop -t 20 flocker-proxy flocker-decider
expect_eq "the proxy exited cleanly" "0" "$(D1 inspect -f '{{.State.ExitCode}}' flocker-proxy)"
D1 rm -f flocker-proxy flocker-decider >/dev/null

echo "== the compose file, on engine 1"
flock_compose() {
  (cd "$REPO/deploy/compose" && DOCKER_HOST=$E1 FLOCKER_HOSTS_FILE=$FLOCK_DIR/hosts.txt \
    FLOCKER_PUBLISH=$IP1:$COMPOSE_PROXY_PORT FLOCKER_PROXY_ARGS="--health-interval 0.5" \
    docker-compose -p flockere2e "$@")
}
check "docker-compose up -d" flock_compose up -d
PROXY=tcp://$IP1:$COMPOSE_PROXY_PORT
smoke compose flock_compose logs
expect_eq "docker-compose ps: both up" "2" "$(flock_compose ps 2>/dev/null | grep -c ' Up ')"
flock_compose logs proxy >"$FLOCK_DIR/proxy.log" 2>&1 || true
check "docker-compose down" flock_compose down
expect_eq "down removed them" "" "$(D1 ps -aq --filter label=com.docker.compose.project=flockere2e)"

echo "== the systemd units"
# verify loads the units with the system's (sysinit.target, ...) and checks that the programs
# they start exist: /usr/bin/flocker-*, where the package installs them, and /bin/kill. It
# does so in a root of its own (--root): this machine's /usr and /etc are left alone.
vroot=$FLOCK_DIR/systemd-root
mkdir -p "$vroot/usr/bin" "$vroot/usr/lib/systemd" "$vroot/etc/systemd/system"
ln -sfn usr/bin "$vroot/bin"
cp -a /usr/lib/systemd/system "$vroot/usr/lib/systemd/"
cp "$BUILD/proxy/flocker-proxy" "$BUILD/sdk/decider/flocker-decider" /bin/kill "$vroot/usr/bin/"
cp "$REPO"/deploy/systemd/*.service "$REPO"/deploy/systemd/*.socket "$vroot/etc/systemd/system/"
# It says what is wrong on stderr and may still exit 0 (an unknown key): no output is a pass.
verify=$(cd "$vroot/etc/systemd/system" && systemd-analyze verify --root="$vroot" --man=no \
  flocker-proxy.socket flocker-proxy.service flocker-decider.service 2>&1) || verify+=" (exit $?)"
expect_eq "systemd-analyze verify: no warnings" "" "$verify"
for unit in flocker-proxy.service flocker-decider.service; do
  exposure=$(cd "$vroot/etc/systemd/system" && systemd-analyze security --offline=yes --root="$vroot" "$unit" 2>&1 |
    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]* [A-Z]*\).*/\1/p')
  expect_match "systemd-analyze security $unit: exposure $exposure" "^[0-9.]+ (OK|SAFE)$" "$exposure"
done

echo "== --listen fd://, as systemd passes sockets (systemd-socket-activate)"
act_sock=$FLOCK_DIR/activated.sock
act_tcp=127.0.0.1:$((FLOCK_PORT_BASE + 43))
# It execs the program at the first connection, with the sockets at fds 3 and 4.
systemd-socket-activate -l "$act_sock" -l "$act_tcp" "$BUILD/proxy/flocker-proxy" --listen fd:// \
  --engine "$(flock_engine_sock 2)" >"$FLOCK_DIR/activated.log" 2>&1 </dev/null &
act_pid=$!
E2E_PIDS+=("$act_pid")
PROXY=tcp://$act_tcp
check "the tcp socket is served" flock_wait_ping "$PROXY" 15
check "the unix socket is served" flock_wait_ping "unix://$act_sock" 15
expect_eq "docker run through the passed unix socket" "activated" \
  "$(docker -H "unix://$act_sock" run --rm "$FLOCK_BUSYBOX" echo activated 2>>"$FLOCK_DIR/clients.log")"
expect_match "it says where the sockets came from" "listening on unix://$act_sock \(fd 3, passed by systemd\).*listening on tcp://$act_tcp \(fd 4" \
  "$(tr '\n' ' ' <"$FLOCK_DIR/activated.log")"
kill -TERM "$act_pid"
wait "$act_pid" 2>/dev/null || true
check "the socket file stays (it is systemd's)" test -S "$act_sock"

echo "   ($((SECONDS - started)) s after the flock was up)"
e2e_end
