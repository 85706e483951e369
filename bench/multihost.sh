#!/usr/bin/env bash
# What a multi-host network costs (docs/networks.md), on the netns flock whose three engines
# form a swarm for networks, through flocker (the reference decider):
#  1. `docker run -d` on a multi-host (overlay) network against a local bridge network, both
#     made through flocker; and the same two on engine 2 directly (so that what the engine's
#     overlay attach costs shows apart from what flocker adds); interleaved, BENCH_ROUNDS
#     times each; medians of wall time;
#  2. a request between two containers on different hosts (VXLAN) against two on one host:
#     BENCH_REQUESTS TCP requests (busybox nc, name resolved each time, as a client does)
#     and 50 pings' mean round trip, both pairs on the same overlay network.
#   bash bench/multihost.sh            (root; ~3 minutes)
# Settings: BENCH_ROUNDS (default 9), BENCH_REQUESTS (default 200), BENCH_PORT_BASE
# (default 24900), FLOCKER_NO_BUILD=1. Prints a table; writes bench/results/multihost.csv.
set -euo pipefail
export FLOCK_NETNS=1 FLOCK_SWARM=1
# Apart from bench/run.sh (21000-23000), flock-up.sh (23750), deploy/coordinated (24500),
# bench/coordination.sh (24700), bench/buildkit.sh (24800) and the e2e tests (26000-31999).
export FLOCK_DIR=/tmp/flocker-bench-multihost FLOCK_PORT_BASE=${BENCH_PORT_BASE:-24900}
source "$(dirname "$0")/bench-lib.sh"
ROUNDS=${BENCH_ROUNDS:-9}
REQUESTS=${BENCH_REQUESTS:-200}
bench_prepare
bench_flock 3 --network-pool "$FLOCK_SWARM_POOL"
P() { docker -H "$PROXY" "$@"; }
IMG=$FLOCK_BUSYBOX
for i in 1 2 3; do docker -H "$(flock_engine_tcp "$i")" pull -q "$IMG" >/dev/null; done
P network create -d overlay benchover >/dev/null
P network create -d bridge --subnet 198.19.240.0/24 benchbridge >/dev/null
E2() { docker -H "$(flock_engine_tcp 2)" "$@"; }
E2 network create -d bridge --subnet 198.19.241.0/24 directbridge >/dev/null
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
ms_of() {  # ms_of CMD...: its wall time in ms
  local start end
  start=$(date +%s%N)
  "$@" >/dev/null
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}

# 1. docker run -d on each network, interleaved.
declare -A runs
for round in $(seq 1 "$ROUNDS"); do
  line="round $round:"
  for net in benchover benchbridge; do
    t=$(ms_of P run -d --name "run-$net-$round" --network "$net" "$IMG" sleep 600)
    runs[flocker-$net]+="$t "
    line+=" flocker $net $t ms"
  done
  for net in benchover directbridge; do
    t=$(ms_of E2 run -d --name "direct-$net-$round" --network "$net" "$IMG" sleep 600)
    runs[e2-$net]+="$t "
    line+=" e2 $net $t ms"
  done
  echo "$line" >&2
done
for round in $(seq 1 "$ROUNDS"); do
  P rm -f "run-benchover-$round" "run-benchbridge-$round" "direct-benchover-$round" "direct-directbridge-$round" >/dev/null
done

# 2. Requests: a server on e1, a client on e1 (same host) and one on e2 (another host).
P run -d --name srv -e constraint:node==e1 --network benchover "$IMG" nc -ll -p 7000 -e echo pong >/dev/null
P run -d --name near -e constraint:node==e1 --network benchover "$IMG" sleep 600 >/dev/null
P run -d --name far -e constraint:node==e2 --network benchover "$IMG" sleep 600 >/dev/null
for c in near far; do  # warm: the name known, the tunnel up
  for _ in $(seq 1 20); do [ "$(P exec "$c" sh -c 'nc srv 7000 </dev/null')" = pong ] && break; sleep 0.5; done
done
declare -A reqs rtt
for round in 1 2 3; do
  for c in near far; do
    t=$(ms_of P exec "$c" sh -c "for i in \$(seq $REQUESTS); do nc srv 7000 </dev/null >/dev/null; done")
    reqs[$c]+="$t "
  done
done
for c in near far; do
  rtt[$c]=$(P exec "$c" ping -q -c 50 -i 0.05 srv | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p')
done

echo "measure,case,rounds,median" >"$OUT/multihost.csv"
printf '%-34s %-20s %12s\n' measure case median
for run in flocker-benchover flocker-benchbridge e2-benchover e2-directbridge; do
  m=$(tr ' ' '\n' <<<"${runs[$run]}" | grep . | median)
  echo "run_ms,$run,$ROUNDS,$m" >>"$OUT/multihost.csv"
  printf '%-34s %-20s %10s ms   (%s)\n' "docker run -d" "$run" "$m" "${runs[$run]% }"
done
for c in near far; do
  m=$(tr ' ' '\n' <<<"${reqs[$c]}" | grep . | median)
  per=$(awk -v t="$m" -v n="$REQUESTS" 'BEGIN {printf "%.2f", t / n}')
  echo "request_ms,$c,3,$per" >>"$OUT/multihost.csv"
  echo "ping_rtt_ms,$c,50,${rtt[$c]}" >>"$OUT/multihost.csv"
  printf '%-34s %-20s %10s ms   (%s requests: %s ms)\n' "TCP request (nc, name looked up)" "$c" "$per" "$REQUESTS" "${reqs[$c]% }"
  printf '%-34s %-20s %10s ms\n' "ping round trip (mean of 50)" "$c" "${rtt[$c]}"
done
