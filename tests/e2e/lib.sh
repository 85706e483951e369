# Helpers for end-to-end tests against real engines. Source it, then:
#   e2e_begin NAME ENGINES      start a private flock (skips, or fails on CI, when impossible)
#   write_hosts N [LABELS...]   the decider's hosts file; start_decider: flocker-decider on $DECIDER
#   start_proxy ARGS...         start flocker-proxy on $PROXY (tcp) and $PROXY_SOCK (unix)
#   wait_healthy_hosts N        until the proxy sees N healthy hosts;  P / E N: docker via the
#                               proxy / directly against engine N
#   expect_eq DESC WANT GOT     record a check;  expect_match DESC REGEX GOT;  check DESC CMD...
#   e2e_end                     print the summary; exit 1 on any failure
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD_DIR:-$REPO/build}
source "$REPO/deploy/flock-lib.sh"

E2E_PASS=0
E2E_FAIL=0
E2E_PIDS=()

e2e_cleanup() {
  local pid
  for pid in "${E2E_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ "${E2E_KEEP:-0}" = 1 ] || flock_down
}

e2e_begin() {
  E2E_NAME=$1
  local engines=$2 why
  export FLOCK_DIR=/tmp/flocker-e2e-$E2E_NAME
  # A port range per test file, so that a test never meets another's leftovers.
  export FLOCK_PORT_BASE=${E2E_PORT_BASE:-$((26000 + ($(echo "$E2E_NAME" | cksum | cut -d' ' -f1) % 60) * 100))}
  source "$REPO/deploy/flock-lib.sh"  # recompute the derived addresses
  why=$(flock_unavailable)
  if [ -n "$why" ]; then
    if [ "${FLOCKER_E2E_REQUIRED:-0}" = 1 ]; then
      echo "FAIL $E2E_NAME: end-to-end tests are required here, but $why" >&2
      exit 1
    fi
    echo "SKIP $E2E_NAME: $why (end-to-end tests need root, dockerd and docker-registry)"
    exit 0
  fi
  flock_down 2>/dev/null || true
  trap e2e_cleanup EXIT
  if ! flock_up "$engines"; then
    echo "FAIL $E2E_NAME: the real-engine fixture did not start" >&2
    exit 1
  fi
  PROXY=tcp://127.0.0.1:$((FLOCK_PORT_BASE + 40))
  PROXY_SOCK=unix://$FLOCK_DIR/flocker.sock
  DECIDER=127.0.0.1:$((FLOCK_PORT_BASE + 20))
}

# Writes $FLOCK_DIR/hosts.txt: engine i is host e<i>, with the i-th of the given label words
# (e.g. write_hosts 3 zone=a zone=b zone=c; none: no labels).
write_hosts() {
  local n=$1 i
  shift
  : >"$FLOCK_DIR/hosts.txt"
  for i in $(seq 1 "$n"); do
    echo "$(flock_engine_tcp "$i") e$i ${!i:-}" >>"$FLOCK_DIR/hosts.txt"
  done
}

# Starts flocker-decider (the reference decider) on $DECIDER over $FLOCK_DIR/hosts.txt, with
# any further arguments given.
start_decider() {
  "$BUILD/sdk/decider/flocker-decider" --listen "$DECIDER" --hosts-file "$FLOCK_DIR/hosts.txt" "$@" \
    >>"$FLOCK_DIR/decider.log" 2>&1 </dev/null &
  DECIDER_PID=$!
  E2E_PIDS+=("$DECIDER_PID")
}

# Starts flocker-proxy with the given arguments, listening on $PROXY and $PROXY_SOCK.
start_proxy() {
  "$BUILD/proxy/flocker-proxy" --listen "$PROXY" --listen "$PROXY_SOCK" "$@" \
    >"$FLOCK_DIR/proxy.log" 2>&1 </dev/null &
  PROXY_PID=$!
  E2E_PIDS+=("$PROXY_PID")
  flock_wait_ping "$PROXY" 15 || { echo "proxy did not start:"; tail "$FLOCK_DIR/proxy.log"; exit 1; }
}

# Waits up to 10 s until the proxy's `docker info` shows $1 healthy hosts.
wait_healthy_hosts() {
  for _ in $(seq 1 50); do
    [ "$(curl -s "http://${PROXY#tcp://}/info" | grep -o '"Healthy"' | wc -l)" = "$1" ] && return 0
    sleep 0.2
  done
  return 1
}

# The docker CLI through the proxy, and directly against engine $1.
P() { docker -H "$PROXY" "$@"; }
E() { local i=$1; shift; docker -H "$(flock_engine_tcp "$i")" "$@"; }

_record() {  # _record OK DESC DETAIL
  if [ "$1" = 1 ]; then
    E2E_PASS=$((E2E_PASS + 1))
    echo "  ok   $2"
  else
    E2E_FAIL=$((E2E_FAIL + 1))
    echo "  FAIL $2"
    printf '%s\n' "$3" | head -20 | sed 's/^/       /'
  fi
}

expect_eq() {
  if [ "$2" = "$3" ]; then _record 1 "$1"; else _record 0 "$1" "want: $2"$'\n'"got:  $3"; fi
}

expect_match() {
  if [[ "$3" =~ $2 ]]; then _record 1 "$1"; else _record 0 "$1" "want match: $2"$'\n'"got: $3"; fi
}

check() {
  local desc=$1 out
  shift
  if out=$("$@" 2>&1); then _record 1 "$desc"; else _record 0 "$desc" "$out"; fi
}

# docker-compose up -d / ps / logs / down of two services (api, worker) through $PROXY, in a
# project named after the folder $1.
compose_two_services() {
  local dir=$1 project
  project=$(basename "$dir")
  mkdir -p "$dir"
  cat >"$dir/docker-compose.yml" <<YML
version: "3"
services:
  api:
    image: $FLOCK_BUSYBOX
    command: sh -c "echo api up; sleep 600"
  worker:
    image: $FLOCK_BUSYBOX
    command: sh -c "echo worker up; sleep 600"
YML
  (
    cd "$dir"
    export DOCKER_HOST=$PROXY
    check "docker-compose up -d" timeout 120 docker-compose up -d
    expect_eq "docker-compose ps: both up" "2" "$(docker-compose ps | grep -c ' Up ')"
    expect_match "docker-compose logs" "api up" "$(docker-compose logs api)"
    expect_match "docker-compose logs (the other service)" "worker up" "$(docker-compose logs worker)"
    check "docker-compose down" timeout 120 docker-compose down
    expect_eq "docker-compose down removed them" "" \
      "$(docker ps -aq --filter label=com.docker.compose.project="$project")"
    echo "$E2E_PASS $E2E_FAIL" >"$dir/.counts"  # the subshell's tally, back to the caller
  )
  read -r E2E_PASS E2E_FAIL <"$dir/.counts"
}

e2e_end() {
  echo "$E2E_NAME: $E2E_PASS passed, $E2E_FAIL failed"
  if [ "$E2E_FAIL" -ne 0 ]; then
    echo "--- proxy log (tail)"
    tail -40 "$FLOCK_DIR/proxy.log" 2>/dev/null || true
    exit 1
  fi
}

# --- Several proxies on one flock, coordinated through etcd (deploy/etcd-lib.sh,
# deploy/coordinated/haproxy-lib.sh). Call after e2e_begin; everything is stopped at exit
# (kept with E2E_KEEP=1, as the flock is). Ports, from the test's port base: etcd members'
# clients on BASE+72, +74, ... (peers +73, ...), extra proxies on BASE+44..49; HAProxy where
# asked (BASE+90 is free).
#   start_etcd_cluster N            N members in $FLOCK_DIR/etcd; sets ETCD (etcd://H:P,...,
#                                   for --coordination/--etcd) and ETCD_ENDPOINTS (H:P,...);
#                                   then etcd_member_stop I [kill], etcd_member_start I,
#                                   etcd_has_quorum, etcd_wait_no_quorum, etcd_leader,
#                                   etcd_ctl put|get|del ... (deploy/etcd-lib.sh)
#   write_hosts_etcd N [LABELS...]  the inventory in etcd, as write_hosts does in a file:
#                                   $HOSTS_PREFIX<e_i> = "ADDRESS [LABEL]" (/flocker/hosts/)
#   start_decider_etcd [ARGS...]    flocker-decider on $DECIDER, its hosts from etcd
#   start_proxy_n K [ARGS...]       one more flocker-proxy (K = 1..6) on $PROXY_<K>
#                                   (tcp://127.0.0.1:BASE+43+K), log $FLOCK_DIR/proxy-K.log,
#                                   pid $PROXY_PID_<K>; waits for its /_ping
#   start_haproxy PORT BACKEND...   HAProxy (mode tcp, roundrobin, /_ping checks) on
#                                   127.0.0.1:PORT over tcp://H:P backends, stats on PORT+1;
#                                   sets HAPROXY (tcp://127.0.0.1:PORT)
#   wait_healthy_hosts_at ADDR N    wait_healthy_hosts for the proxy at tcp://ADDR
#   engines_csv                     the flock's engines: tcp://...,tcp://...
#   load_test ARGS...               tests/e2e/coordination_load.py --image $FLOCK_BUSYBOX
#                                   --engines "$(engines_csv)" ARGS... (JSON on stdout)
HOSTS_PREFIX=/flocker/hosts/

_coordination_cleanup() {
  [ "${E2E_KEEP:-0}" = 1 ] && return 0
  haproxy_stop "$FLOCK_DIR" 2>/dev/null || true
  etcd_cluster_down 2>/dev/null || true
}

# Once per test: stop etcd and HAProxy before the rest of e2e_cleanup.
_coordination_trap() {
  [ "${_COORDINATION_TRAP:-0}" = 1 ] && return 0
  _COORDINATION_TRAP=1
  trap '_coordination_cleanup; e2e_cleanup' EXIT
}

start_etcd_cluster() {
  source "$REPO/deploy/etcd-lib.sh"
  _coordination_trap
  etcd_cluster_start "$FLOCK_DIR/etcd" $((FLOCK_PORT_BASE + 70)) "${1:-3}" ||
    { echo "FAIL $E2E_NAME: etcd did not start" >&2; exit 1; }
  ETCD=$(etcd_url)
  ETCD_ENDPOINTS=$(etcd_endpoints)
}

write_hosts_etcd() {
  local n=$1 i
  shift
  for i in $(seq 1 "$n"); do
    etcd_ctl put "${HOSTS_PREFIX}e$i" "$(flock_engine_tcp "$i")${!i:+ ${!i}}" >/dev/null
  done
}

start_decider_etcd() {
  "$BUILD/sdk/decider/flocker-decider" --listen "$DECIDER" --hosts-etcd "$HOSTS_PREFIX" --etcd "$ETCD" "$@" \
    >>"$FLOCK_DIR/decider.log" 2>&1 </dev/null &
  DECIDER_PID=$!
  E2E_PIDS+=("$DECIDER_PID")
}

start_proxy_n() {
  local k=$1 addr
  shift
  ((k >= 1 && k <= 6)) || { echo "start_proxy_n: K is 1 to 6" >&2; return 1; }
  addr=tcp://127.0.0.1:$((FLOCK_PORT_BASE + 43 + k))
  "$BUILD/proxy/flocker-proxy" --listen "$addr" "$@" >>"$FLOCK_DIR/proxy-$k.log" 2>&1 </dev/null &
  printf -v "PROXY_$k" '%s' "$addr"
  printf -v "PROXY_PID_$k" '%s' "$!"
  E2E_PIDS+=("$!")
  flock_wait_ping "$addr" 15 || { echo "proxy $k did not start:"; tail "$FLOCK_DIR/proxy-$k.log"; exit 1; }
}

start_haproxy() {
  local port=$1 b backends=()
  shift
  source "$REPO/deploy/coordinated/haproxy-lib.sh"
  _coordination_trap
  for b in "$@"; do backends+=("${b#tcp://}"); done
  haproxy_stop "$FLOCK_DIR"
  haproxy_render "$FLOCK_DIR/haproxy.cfg" "127.0.0.1:$port" "127.0.0.1:$((port + 1))" "${backends[@]}" &&
    haproxy_start "$FLOCK_DIR/haproxy.cfg" "$FLOCK_DIR" ||
    { echo "FAIL $E2E_NAME: HAProxy did not start" >&2; exit 1; }
  HAPROXY=tcp://127.0.0.1:$port
}

wait_healthy_hosts_at() {
  for _ in $(seq 1 50); do
    [ "$(curl -s "http://${1#tcp://}/info" | grep -o '"Healthy"' | wc -l)" = "$2" ] && return 0
    sleep 0.2
  done
  return 1
}

engines_csv() {
  local d out=""
  for d in "$FLOCK_DIR"/engine-*; do
    [ -d "$d" ] && out+="${out:+,}$(flock_engine_tcp "${d##*engine-}")"
  done
  echo "$out"
}

load_test() {
  python3 "$REPO/tests/e2e/coordination_load.py" --image "$FLOCK_BUSYBOX" --engines "$(engines_csv)" "$@"
}
