# Section 7 of bench/run.sh (sourced by it: its helpers, ports and $OUT): merged reads from
# memory.
#   a. `docker ps` over 3 real engines × 10 containers: one engine directly, flocker from
#      memory, flocker live (Cache-Control: no-cache, the fan-out), interleaved, wrk -c16;
#   b. freshness of changes made directly on the engines (tests/e2e/merged_reads.py);
#   c. 1,000 simulated engines × 10 containers: time until every host is synced, `ps -a` and
#      `info` latency (memory, and the live fan-out beside it), RSS, descriptors, idle CPU,
#      and a storm: every engine restarts at once.
# Writes $OUT/merged-reads.csv (metric,value) and $OUT/merged-sync.csv (seconds,live_hosts,phase).
echo "== 7. merged reads from memory"
MR=$OUT/merged-reads.csv
echo "metric,value" >"$MR"
put() { echo "$1,$2" >>"$MR"; echo "  $1: $2"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# --- a. three real engines, ten containers each
for i in 2 3; do flock_wait_ping "$(flock_engine_sock "$i")" 1 2>/dev/null || flock_engine_start "$i" >/dev/null; done
: >"$FLOCK_DIR/three.txt"
for i in 1 2 3; do
  docker -H "$(flock_engine_tcp "$i")" pull -q "$FLOCK_BUSYBOX" >/dev/null
  for n in $(seq 1 10); do
    docker -H "$(flock_engine_tcp "$i")" rm -f "mr-$i-$n" >/dev/null 2>&1 || true
    docker -H "$(flock_engine_tcp "$i")" run -d --name "mr-$i-$n" "$FLOCK_BUSYBOX" sleep 1d >/dev/null
  done
  echo "$(flock_engine_tcp "$i") e$i" >>"$FLOCK_DIR/three.txt"
done
bg "$FLOCK_DIR/mr-decider.log" "$BUILD/sdk/decider/flocker-decider" --listen "127.0.0.1:$(port 24)" \
  --hosts-file "$FLOCK_DIR/three.txt" --log-level warn
bg "$FLOCK_DIR/mr-proxy.log" "$BUILD/proxy/flocker-proxy" --listen "tcp://127.0.0.1:$(port 44)" \
  --decider "127.0.0.1:$(port 24)" --access-log off --threads 1
MRP=127.0.0.1:$(port 44)
live_hosts() { curl -s "http://$1/v1.41/info" | grep -o '"  └ Model","live"' | wc -l; }
for _ in $(seq 1 100); do [ "$(live_hosts "$MRP")" = 3 ] && break; sleep 0.1; done
# wrk_h URL CONCURRENCY [HEADER] -> "rps,p50_us,p99_us"
wrk_h() {
  local extra=()
  [ -n "${3:-}" ] && extra=(-H "$3")
  wrk -t1 -c"$2" -d"${SECONDS_PER}s" --latency "${extra[@]}" "$1" 2>&1 | awk '
    function us(v) { if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return v * 1000; if (v ~ /s$/) return v * 1000000; return v }
    /Requests\/sec/ { rps = $2 } $1 == "50%" { p50 = us($2) } $1 == "99%" { p99 = us($2) }
    /Non-2xx/ { bad = 1 }
    END { if (bad) print "ERROR"; else printf "%.0f,%.0f,%.0f\n", rps, p50, p99 }'
}
direct=() memory=() live=()
for round in $(seq 1 "$ROUNDS"); do
  direct+=("$(wrk_h "http://127.0.0.1:$(port 1)/v1.41/containers/json" 16 | cut -d, -f1)")
  memory+=("$(wrk_h "http://$MRP/v1.41/containers/json" 16 | cut -d, -f1)")
  live+=("$(wrk_h "http://$MRP/v1.41/containers/json" 16 'Cache-Control: no-cache' | cut -d, -f1)")
done
d=$(printf '%s\n' "${direct[@]}" | median)
m=$(printf '%s\n' "${memory[@]}" | median)
l=$(printf '%s\n' "${live[@]}" | median)
put ps3_direct_rps "$d"
put ps3_memory_rps "$m"
put ps3_live_rps "$l"
put ps3_ratio "$(awk -v m="$m" -v d="$d" 'BEGIN {printf "%.1f", m / d}')"

# --- b. freshness, and the differential, on the same flock
engines=()
for i in 1 2 3; do engines+=(--engine "127.0.0.1:$(port "$i")"); done
/usr/bin/python3 "$REPO/tests/e2e/merged_reads.py" --proxy "$MRP" "${engines[@]}" --image "$FLOCK_BUSYBOX" \
  --steps "${BENCH_FRESH_STEPS:-200}" >"$OUT/merged-reads-differential.txt" 2>&1 || true
fresh=$(tail -1 "$OUT/merged-reads-differential.txt")
grep -A6 "^DIFF" "$OUT/merged-reads-differential.txt" | head -20 || true
echo "  $fresh"
put fresh_changes "$(sed -n 's/.*on engines (\([0-9]*\)).*/\1/p' <<<"$fresh")"
put fresh_p50_ms "$(sed -n 's/.*p50 \([0-9.]*\) ms.*/\1/p' <<<"$fresh")"
put fresh_p99_ms "$(sed -n 's/.*p99 \([0-9.]*\) ms.*/\1/p' <<<"$fresh")"
put fresh_max_ms "$(sed -n 's/.*max \([0-9.]*\) ms.*/\1/p' <<<"$fresh")"
put differential_disagreements "$(sed -n 's/.* \([0-9]*\) disagreements.*/\1/p' <<<"$fresh")"
for i in 1 2 3; do for n in $(seq 1 10); do docker -H "$(flock_engine_tcp "$i")" rm -f "mr-$i-$n" >/dev/null 2>&1 || true; done; done

# --- c. a thousand simulated engines, ten containers each
N=${BENCH_SIM_ENGINES:-1000}
SIM_BASE=$(port 1000)
bg "$FLOCK_DIR/sim-flock.log" "$BUILD/bench/flocker-fake-flock" "$N" 10 "$SIM_BASE"
sim=${PIDS[-1]}
for _ in $(seq 1 300); do [ "$(wc -l <"$FLOCK_DIR/sim-flock.log")" -ge "$N" ] && break; sleep 0.2; done
cp "$FLOCK_DIR/sim-flock.log" "$FLOCK_DIR/sim-hosts.txt"
bg "$FLOCK_DIR/sim-decider.log" "$BUILD/sdk/decider/flocker-decider" --listen "127.0.0.1:$(port 25)" \
  --hosts-file "$FLOCK_DIR/sim-hosts.txt" --log-level warn
sleep 1
t0=$(now_ms)
bg "$FLOCK_DIR/sim-proxy.log" "$BUILD/proxy/flocker-proxy" --listen "tcp://127.0.0.1:$(port 47)" \
  --decider "127.0.0.1:$(port 25)" --access-log off --threads 1
sp=${PIDS[-1]}
SP=127.0.0.1:$(port 47)
echo "seconds,live_hosts,phase" >"$OUT/merged-sync.csv"
synced_ms=""
until_live() {  # until_live T0 LABEL: polls until all $N hosts are live; echoes the ms it took
  local start=$1 n=0 at
  for _ in $(seq 1 1200); do
    n=$(live_hosts "$SP")
    at=$(( $(now_ms) - start ))
    echo "$(awk -v ms="$at" 'BEGIN {printf "%.2f", ms / 1000}'),$n,$2" >>"$OUT/merged-sync.csv"
    [ "$n" = "$N" ] && { echo "$at"; return; }
    sleep 0.1
  done
  echo "-1"
}
synced_ms=$(until_live "$t0" start)
put sim_engines "$N"
put sim_sync_ms "$synced_ms"
put sim_containers "$(curl -s "http://$SP/v1.41/info" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["Containers"])')"
ps_m=$(wrk_h "http://$SP/v1.41/containers/json?all=1" 1)
ps_l=$(wrk_h "http://$SP/v1.41/containers/json?all=1" 1 'Cache-Control: no-cache')
info_m=$(wrk_h "http://$SP/v1.41/info" 1)
put sim_ps_p50_ms "$(awk -v v="$(cut -d, -f2 <<<"$ps_m")" 'BEGIN {printf "%.2f", v / 1000}')"
put sim_ps_p99_ms "$(awk -v v="$(cut -d, -f3 <<<"$ps_m")" 'BEGIN {printf "%.2f", v / 1000}')"
put sim_ps_live_p50_ms "$(awk -v v="$(cut -d, -f2 <<<"$ps_l")" 'BEGIN {printf "%.2f", v / 1000}')"
put sim_ps_bytes "$(curl -s "http://$SP/v1.41/containers/json?all=1" | wc -c)"
put sim_info_p50_ms "$(awk -v v="$(cut -d, -f2 <<<"$info_m")" 'BEGIN {printf "%.2f", v / 1000}')"
put sim_info_p99_ms "$(awk -v v="$(cut -d, -f3 <<<"$info_m")" 'BEGIN {printf "%.2f", v / 1000}')"
sleep 3  # (what the reads left settles)
c0=$(ticks "$sp")
sleep 10
c1=$(ticks "$sp")
put sim_idle_cpu_pct "$(awk -v t=$((c1 - c0)) -v hz="$HZ" 'BEGIN {printf "%.2f", 100 * t / hz / 10}')"
put sim_rss_mib "$(awk '{printf "%.1f", $1 / 1024}' <<<"$(peak_kib "$sp" VmRSS)")"
put sim_fds "$(ls "/proc/$sp/fd" | wc -l)"
# The storm: every engine restarts at once (the simulated flock's process is killed and
# started again on the same ports, with the same containers): every event stream breaks,
# every host is listed again.
kill "$sim"
wait "$sim" 2>/dev/null || true
t0=$(now_ms)
bg "$FLOCK_DIR/sim-flock.log" "$BUILD/bench/flocker-fake-flock" "$N" 10 "$SIM_BASE"
sim=${PIDS[-1]}
sleep 1  # (until every host is seen down: the live count drops before it climbs again)
put sim_storm_resync_ms "$(until_live "$t0" storm)"
put sim_storm_containers "$(curl -s "http://$SP/v1.41/info" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["Containers"])')"
put sim_peak_rss_mib "$(awk '{printf "%.1f", $1 / 1024}' <<<"$(peak_kib "$sp" VmHWM)")"
kill "$sp" "$sim"
wait "$sp" "$sim" 2>/dev/null || true
