#!/usr/bin/env bash
# The soak (issue 14): a private flock of 3 real engines, the decider and the proxy, many
# clients running a mix of Docker work through the proxy while engines are SIGKILLed and
# restarted, SIGSTOPped for some seconds, and the decider restarted. Then the invariants
# (bench/soak.py): creates exist exactly once, names unique, no hung request, the proxy's RSS
# and descriptors back in their band, every error Docker's JSON message (or explained by a
# fault). Summary on stdout and in bench/results/soak-latest.txt; exit 1 on any FAIL.
#
#   SOAK_SECONDS=180 bash bench/soak.sh      # CI (the default): ~4.5 minutes in all
#   SOAK_SECONDS=3600 bash bench/soak.sh     # an hour, on demand
#
# SOAK_WORKERS (10) client threads; SOAK_TIMEOUT: every request's deadline (90 s up to a
# 10-minute soak, 120 s beyond: far above anything normal work takes here, a few seconds);
# SOAK_FAULTS=kill,stop,decider (any subset; "" for none); SOAK_STOP_SECONDS (6-15: how long
# a SIGSTOP lasts, MIN-MAX); SOAK_EXEC_CLOSE=0 (exec as docker-py does it: its socket stays
# open until Python collects it, and so does the proxy's tunnel); SOAK_SEED; SOAK_SETTLE (45 s,
# longest wait for the proxy to settle after the load); SOAK_LOGS (where the logs are kept,
# /tmp/flocker-soak-logs). Needs root, dockerd, docker-registry (as tests/e2e).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SOAK_SECONDS=${SOAK_SECONDS:-180}
if [ -z "${SOAK_TIMEOUT:-}" ]; then
  if [ "$SOAK_SECONDS" -le 600 ]; then SOAK_TIMEOUT=90; else SOAK_TIMEOUT=120; fi
fi
LOGS=${SOAK_LOGS:-/tmp/flocker-soak-logs}
STARTED=$SECONDS

# The binaries, copied: build/ may be rebuilt while the soak runs.
PRIV=$(mktemp -d /tmp/flocker-soak-bin.XXXXXX)
trap 'rm -rf "$PRIV"' EXIT
copy_binaries() {
  local src=${BUILD_DIR:-$REPO/build} f
  for f in proxy/flocker-proxy sdk/decider/flocker-decider; do
    mkdir -p "$PRIV/$(dirname "$f")"
    for _ in 1 2 3 4 5; do  # a copy taken in the middle of a link does not run: again
      cp "$src/$f" "$PRIV/$f" && "$PRIV/$f" --help >/dev/null 2>&1 && continue 2
      sleep 2
    done
    echo "soak: $src/$f cannot be copied in a usable state" >&2
    exit 1
  done
}
copy_binaries
export BUILD_DIR=$PRIV

source "$REPO/tests/e2e/lib.sh"
e2e_begin soak 3
soak_cleanup() {
  local rc=$?
  mkdir -p "$LOGS"
  cp "$FLOCK_DIR"/*.log "$LOGS/" 2>/dev/null || true
  for i in 1 2 3; do cp "$FLOCK_DIR/engine-$i/dockerd.log" "$LOGS/dockerd-e$i.log" 2>/dev/null || true; done
  e2e_cleanup
  rm -rf "$PRIV"
  echo "soak: logs in $LOGS; $((SECONDS - STARTED)) s in all"
  exit $rc
}
trap soak_cleanup EXIT
rm -rf "$LOGS" && mkdir -p "$LOGS"

write_hosts 3
start_decider
echo "$DECIDER_PID" >"$FLOCK_DIR/decider.pid"  # soak.py restarts it (and flock_down stops it)
disown "$DECIDER_PID" 2>/dev/null || true        # (no "Killed" notice from this shell)
start_proxy --decider "$DECIDER" --health-interval 1
wait_healthy_hosts 3 || { echo "soak: the proxy does not see 3 healthy hosts"; exit 1; }

# Tags of busybox in the registry that no engine has: a `run` of one goes create -> 404 ->
# pull -> create (the proxy copies an image some host has instead of pulling it).
TAGS=20
REG_IMG=${FLOCK_BUSYBOX%:latest}
E 1 pull -q "$FLOCK_BUSYBOX" >/dev/null
for t in $(seq 1 $TAGS); do
  E 1 tag "$FLOCK_BUSYBOX" "$REG_IMG:t$t"
  E 1 push -q "$REG_IMG:t$t" >/dev/null
  E 1 rmi "$REG_IMG:t$t" >/dev/null
done
E 1 rmi "$FLOCK_BUSYBOX" >/dev/null
echo "soak: flock up in $((SECONDS - STARTED)) s; load for $SOAK_SECONDS s"

engines=()
for i in 1 2 3; do engines+=(--engine "$(flock_engine_tcp "$i" | sed 's|^tcp://||')"); done
mkdir -p "$REPO/bench/results"
rc=0
/usr/bin/python3 "$REPO/bench/soak.py" --proxy "${PROXY#tcp://}" --proxy-pid "$PROXY_PID" "${engines[@]}" \
  --image "$REG_IMG" --tags "$TAGS" --seconds "$SOAK_SECONDS" --workers "${SOAK_WORKERS:-10}" \
  --timeout "$SOAK_TIMEOUT" --settle "${SOAK_SETTLE:-45}" --faults "${SOAK_FAULTS-kill,stop,decider}" \
  --stop-seconds "${SOAK_STOP_SECONDS:-6-15}" --exec-close "${SOAK_EXEC_CLOSE:-1}" --seed "${SOAK_SEED:-14}" --flock-dir "$FLOCK_DIR" --repo "$REPO" --build "$BUILD" --decider "$DECIDER" \
  --work "$LOGS/work" --proxy-log "$FLOCK_DIR/proxy.log" --results "$REPO/bench/results/soak-latest.txt" || rc=$?

# What the proxy's access log says about slow requests (> 10 s), with their peers: a hung
# request's peer port (in the summary) finds its line, if the proxy ever finished it.
{
  echo "--- proxy: requests that took over 10 s (access log)"
  grep -E ' [0-9]{5,}\.[0-9]+ms ' "$FLOCK_DIR/proxy.log" | head -40 || true
  echo "--- proxy: warnings and errors (first 40)"
  grep -E '^[^ ]+ (warning|error|critical) ' "$FLOCK_DIR/proxy.log" | head -40 || true
} | tee "$LOGS/proxy-notes.txt"
exit $rc
