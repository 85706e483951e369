#!/usr/bin/env bash
# What coordination through etcd adds to a named container create: two flocker-proxy
# processes on the same flock and decider, one without --coordination, one with it (a
# 3-member etcd on loopback, deploy/etcd-lib.sh), side by side in one run. N sequential
# creates with unique names through each, interleaved request by request
# (tests/e2e/coordination_load.py --sequential --unique with both proxies as targets), the
# first tenth left out as warm-up; the containers are removed afterwards, not timed.
# Two flocks, in turn:
#   simulated  flocker-fake-flock engines: a create costs the engine next to nothing, so the
#              difference is the proxy's reservation in etcd, plainly;
#   real       real dockerd engines (vfs: a create copies the busybox image, tens of ms): what a
#              user sees.
#   bash bench/coordination.sh                 (root; ~5 minutes)
#   BENCH_CREATES=100 BENCH_REAL=0 bash bench/coordination.sh      (a quick pass)
# Settings: BENCH_CREATES (N per proxy, default 300), BENCH_ENGINES (real engines, default 3),
# BENCH_REAL=0 (simulated only), BENCH_PORT_BASE (default 24700), FLOCKER_NO_BUILD=1.
# Prints a table and writes bench/results/coordination.csv.
set -euo pipefail
# The engines on loopback in the host's network namespace, as bench/run.sh has them.
export FLOCK_NETNS=0
# Below the kernel's ephemeral range, apart from bench/run.sh (21000-23000), flock-up.sh
# (23750), deploy/coordinated (24500) and the e2e tests (26000-31999).
export FLOCK_DIR=/tmp/flocker-bench-coordination FLOCK_PORT_BASE=${BENCH_PORT_BASE:-24700}
source "$(dirname "$0")/bench-lib.sh"
source "$REPO/deploy/etcd-lib.sh"
N=${BENCH_CREATES:-300}
ENGINES=${BENCH_ENGINES:-3}
LOAD=$REPO/tests/e2e/coordination_load.py
bench_prepare
"$BUILD/proxy/flocker-proxy" --help | grep -q -- --coordination ||
  { echo "bench: $BUILD/proxy/flocker-proxy has no --coordination (an older build)" >&2; exit 1; }

PIDS=()
FLOCKER_ETCD_DIR=$FLOCK_DIR/etcd
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  etcd_cluster_down >/dev/null 2>&1 || true
  flock_down >/dev/null 2>&1 || true
}
trap cleanup EXIT
bg() {  # bg LOG COMMAND...: a background process the script stops at the end
  local log=$1
  shift
  "$@" >"$log" 2>&1 </dev/null &
  PIDS+=("$!")
}
healthy() {  # healthy HOST:PORT N: waits up to 15 s until the proxy sees N healthy hosts
  for _ in $(seq 1 75); do
    [ "$(curl -s "http://$1/info" | grep -o '"Healthy"' | wc -l)" -ge "$2" ] && return 0
    sleep 0.2
  done
  echo "bench: the proxy at $1 does not see $2 healthy hosts" >&2
  return 1
}

cleanup  # what a killed earlier run left
mkdir -p "$FLOCK_DIR"
etcd_cluster_start "$FLOCKER_ETCD_DIR" "$(port 70)" 3 2>/dev/null
ETCD=$(etcd_url)
echo "flock,proxy,creates,p50_ms,p99_ms,mean_ms" >"$OUT/coordination.csv"
RESULTS=()

# measure NAME HOSTS_FILE DECIDER_PORT PLAIN_PORT COORD_PORT IMAGE ENGINES_CSV N_HOSTS
measure() {
  local name=$1 hosts=$2 dport=$3 plain=127.0.0.1:$(port "$4") coord=127.0.0.1:$(port "$5") image=$6
  local engines=$7 nhosts=$8 summary=$FLOCK_DIR/$1.json
  bg "$FLOCK_DIR/$name-decider.log" "$BUILD/sdk/decider/flocker-decider" --listen "127.0.0.1:$(port "$dport")" \
    --hosts-file "$hosts" --log-level warn
  # One I/O thread each, as in bench/run.sh; the same flags but --coordination.
  bg "$FLOCK_DIR/$name-plain.log" "$BUILD/proxy/flocker-proxy" --listen "tcp://$plain" \
    --decider "127.0.0.1:$(port "$dport")" --access-log off --threads 1
  bg "$FLOCK_DIR/$name-coordinated.log" "$BUILD/proxy/flocker-proxy" --listen "tcp://$coord" \
    --decider "127.0.0.1:$(port "$dport")" --access-log off --threads 1 --coordination "$ETCD"
  flock_wait_ping "tcp://$plain" 15 && flock_wait_ping "tcp://$coord" 15 ||
    { echo "bench: a proxy did not start" >&2; tail -n 5 "$FLOCK_DIR/$name"-*.log >&2; exit 1; }
  healthy "$plain" "$nhosts" || exit 1
  healthy "$coord" "$nhosts" || exit 1
  echo "== $name: $N creates through each proxy, interleaved"
  if ! /usr/bin/python3 "$LOAD" --target "tcp://$plain" --target "tcp://$coord" --image "$image" \
    --unique --sequential --creates $((2 * N)) --warmup $((N / 10)) --engines "$engines" --cleanup \
    --prefix "bench-coord-$name-" --raw "$FLOCK_DIR/$name.csv" >"$summary"; then
    echo "bench: the $name run was not clean (unexpected answers, or names not where they should be):" >&2
    python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
e = {k: (v if not isinstance(v, (list, dict)) else len(v)) for k, v in d.get("engines", {}).items()}
print(json.dumps({"status_counts": d["status_counts"], "unexpected (first 5)": d["unexpected"][:5], "engines": e}, indent=1))' "$summary" >&2
    rm -rf "$FLOCK_DIR-failed" && mkdir -p "$FLOCK_DIR-failed"
    cp "$summary" "$FLOCK_DIR"/*.log "$FLOCK_DIR-failed/" 2>/dev/null || true
    echo "(the whole summary and the logs: $FLOCK_DIR-failed/)" >&2
    exit 1
  fi
  local line target
  for target in plain coordinated; do
    line=$(python3 -c 'import json,sys
s = json.load(open(sys.argv[1]))["latency_ms_by_target"][sys.argv[2]]
print(",".join(str(s[k]) for k in ("n", "p50", "p99", "mean")))' "$summary" "tcp://$([ $target = plain ] && echo "$plain" || echo "$coord")")
    echo "$name,$target,$line" >>"$OUT/coordination.csv"
    RESULTS+=("$name,$target,$line")
  done
}

# --- simulated engines
SIM=2
bg "$FLOCK_DIR/sim-flock.log" "$BUILD/bench/flocker-fake-flock" "$SIM" 0 "$(port 80)"
for _ in $(seq 1 50); do [ "$(wc -l <"$FLOCK_DIR/sim-flock.log")" -ge "$SIM" ] && break; sleep 0.1; done
cp "$FLOCK_DIR/sim-flock.log" "$FLOCK_DIR/sim-hosts.txt"
measure simulated "$FLOCK_DIR/sim-hosts.txt" 21 42 43 app:latest \
  "$(awk '{printf "%s%s", (NR > 1 ? "," : ""), $1}' "$FLOCK_DIR/sim-hosts.txt")" "$SIM"

# --- real engines
if [ "${BENCH_REAL:-1}" != 0 ]; then
  flock_up "$ENGINES" >/dev/null 2>&1 || { echo "bench: the engines did not start" >&2; exit 1; }
  : >"$FLOCK_DIR/hosts.txt"
  engines=""
  for i in $(seq 1 "$ENGINES"); do
    echo "$(flock_engine_tcp "$i") e$i" >>"$FLOCK_DIR/hosts.txt"
    engines+="${engines:+,}$(flock_engine_tcp "$i")"
    docker -H "$(flock_engine_tcp "$i")" pull -q "$FLOCK_BUSYBOX" >/dev/null
  done
  measure real "$FLOCK_DIR/hosts.txt" 20 40 41 "$FLOCK_BUSYBOX" "$engines" "$ENGINES"
fi

echo
echo "| flock | proxy | creates | p50 ms | p99 ms | mean ms |"
echo "| --- | --- | --- | --- | --- | --- |"
for r in "${RESULTS[@]}"; do
  IFS=, read -r f p n p50 p99 mean <<<"$r"
  echo "| $f | $p | $n | $p50 | $p99 | $mean |"
done
echo
for f in simulated real; do
  plain=$(grep "^$f,plain," "$OUT/coordination.csv" || true)
  coord=$(grep "^$f,coordinated," "$OUT/coordination.csv" || true)
  [ -n "$plain" ] && [ -n "$coord" ] || continue
  awk -F, -v f="$f" -v a="$plain" -v b="$coord" 'BEGIN {
    split(a, x, ","); split(b, y, ",")
    printf "%s: coordinated / plain  p50 %.2fx (%+.2f ms)  p99 %.2fx (%+.2f ms)\n", f,
      y[4] / x[4], y[4] - x[4], y[5] / x[5], y[5] - x[5] }'
done
echo "written: bench/results/coordination.csv"
