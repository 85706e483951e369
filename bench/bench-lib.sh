# Shared by the benchmarks on real engines (bench/buildkit.sh, multihost.sh, coordination.sh).
# Source it after setting FLOCK_DIR and FLOCK_PORT_BASE (and FLOCK_NETNS, FLOCK_SWARM):
#   bench_prepare            root and dockerd can run here, the packages, the build
#                            (FLOCKER_NO_BUILD=1 skips it); bench/results/ exists ($OUT)
#   bench_cleanup            kills $PIDS, stops the flock (also run at exit)
#   bench_flock N ARGS...    N engines, the reference decider on port BASE+20 and
#                            flocker-proxy on BASE+40 with ARGS; waits until every engine
#                            is healthy; sets PROXY
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD_DIR:-$REPO/build}
OUT=$REPO/bench/results
source "$REPO/deploy/flock-lib.sh"
PIDS=()
port() { echo $((FLOCK_PORT_BASE + $1)); }

bench_prepare() {
  local why
  mkdir -p "$OUT"
  why=$(flock_unavailable)
  [ -z "$why" ] || { echo "bench: $why" >&2; exit 1; }
  bash "$REPO/deploy/install-deps.sh" >/dev/null
  [ "${FLOCKER_NO_BUILD:-0}" = 1 ] || bash "$REPO/deploy/build.sh" >/dev/null
}

bench_cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  flock_down >/dev/null 2>&1 || true
}

bench_flock() {
  local n=$1 i
  shift
  trap bench_cleanup EXIT
  bench_cleanup
  mkdir -p "$FLOCK_DIR"
  flock_up "$n" >/dev/null 2>&1 || { echo "bench: the flock did not start" >&2; exit 1; }
  : >"$FLOCK_DIR/hosts.txt"
  for i in $(seq 1 "$n"); do echo "$(flock_engine_tcp "$i") e$i" >>"$FLOCK_DIR/hosts.txt"; done
  "$BUILD/sdk/decider/flocker-decider" --listen "127.0.0.1:$(port 20)" --hosts-file "$FLOCK_DIR/hosts.txt" \
    --log-level warn >"$FLOCK_DIR/decider.log" 2>&1 </dev/null &
  PIDS+=("$!")
  "$BUILD/proxy/flocker-proxy" --listen "tcp://127.0.0.1:$(port 40)" --decider "127.0.0.1:$(port 20)" \
    --access-log off "$@" >"$FLOCK_DIR/proxy.log" 2>&1 </dev/null &
  PIDS+=("$!")
  PROXY=tcp://127.0.0.1:$(port 40)
  flock_wait_ping "$PROXY" 15
  for _ in $(seq 1 75); do
    [ "$(curl -s "http://127.0.0.1:$(port 40)/info" | grep -o '"Healthy"' | wc -l)" = "$n" ] && break
    sleep 0.2
  done
}
