#!/usr/bin/env bash
# flocker's benchmark suite: one command, all figures taken in one run, each target
# interleaved with the others, written to docs/benchmarks.md with plots in docs/bench/.
#   bash bench/run.sh            (root; about 15 minutes)
#   BENCH_SECONDS=2 BENCH_ROUNDS=1 bash bench/run.sh    (a quick pass)
#   BENCH_SECTIONS="3 4" bash bench/run.sh                (only those figures)
# 1 pass-through   2 streaming   3 fan-out   4 connections   5 decisions   6 image copy
# 7 merged reads from memory (3 real engines; 1,000 simulated ones)
# (bench/README.md)
set -euo pipefail
# The engines on loopback in the host's network namespace, as in earlier runs (deploy/flock-lib.sh).
export FLOCK_NETNS=0
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD_DIR:-$REPO/build}
# Ports below the kernel's ephemeral range (32768-60999 here), where outgoing connections
# take their local ports and a listener could find its port taken.
export FLOCK_DIR=/tmp/flocker-bench FLOCK_PORT_BASE=${BENCH_PORT_BASE:-21000}
source "$REPO/deploy/flock-lib.sh"
SECONDS_PER=${BENCH_SECONDS:-5}
ROUNDS=${BENCH_ROUNDS:-3}
# BENCH_SECTIONS="4" re-takes only some figures; the others keep their last results.
SECTIONS=${BENCH_SECTIONS:-1 2 3 4 5 6 7}
want() { [[ " $SECTIONS " == *" $1 "* ]]; }
OUT=$REPO/bench/results
mkdir -p "$OUT"
why=$(flock_unavailable)
[ -z "$why" ] || { echo "bench: $why" >&2; exit 1; }
bash "$REPO/deploy/install-deps.sh" >/dev/null
bash "$REPO/deploy/build.sh" >/dev/null
ulimit -n "$(ulimit -Hn)"

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$FLOCK_DIR/haproxy1.pid" ] && kill "$(cat "$FLOCK_DIR/haproxy1.pid")" 2>/dev/null || true
  [ -f "$FLOCK_DIR/haproxy2.pid" ] && kill "$(cat "$FLOCK_DIR/haproxy2.pid")" 2>/dev/null || true
  flock_down >/dev/null 2>&1 || true
}
trap cleanup EXIT
bg() {  # bg LOG COMMAND...: a background process the suite stops at the end
  local log=$1
  shift
  "$@" >"$log" 2>&1 </dev/null &
  PIDS+=("$!")
}
port() { echo $((FLOCK_PORT_BASE + $1)); }
# Where the load runs: empty (anywhere), or a taskset prefix in the engine-own-core layout.
LOAD=()
# wrk_csv TARGET_URL CONCURRENCY -> "rps,p50_us,p99_us,requests"
wrk_csv() {
  "${LOAD[@]}" wrk -t1 -c"$2" -d"${SECONDS_PER}s" --latency "$1" 2>&1 | awk '
    function us(v) { if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return v * 1000; if (v ~ /s$/) return v * 1000000; return v }
    /Requests\/sec/ { rps = $2 } $1 == "50%" { p50 = us($2) } $1 == "99%" { p99 = us($2) }
    / requests in / { n = $1 }
    /Non-2xx/ { bad = 1 }
    END { if (bad) print "ERROR"; else printf "%.0f,%.0f,%.0f,%d\n", rps, p50, p99, n }'
}
# CPU time a process (all its threads) has used, user + system, in clock ticks.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
peak_kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }

echo "== setup: one real engine, the registry, the reference decider"
flock_down >/dev/null 2>&1 || true
flock_up 1 >/dev/null
E=127.0.0.1:$(port 1)
docker -H "tcp://$E" pull -q "$FLOCK_BUSYBOX" >/dev/null
CID=$(docker -H "tcp://$E" run -d --name bench-target "$FLOCK_BUSYBOX" sleep 1d)
echo "$(flock_engine_tcp 1) e1" >"$FLOCK_DIR/hosts.txt"
bg "$FLOCK_DIR/decider.log" "$BUILD/sdk/decider/flocker-decider" --listen "127.0.0.1:$(port 20)" \
  --hosts-file "$FLOCK_DIR/hosts.txt" --log-level warn
# flocker, one I/O thread each (this machine's 2 cores also run the engine and the load).
bg "$FLOCK_DIR/flock.log" "$BUILD/proxy/flocker-proxy" --listen "tcp://127.0.0.1:$(port 40)" \
  --decider "127.0.0.1:$(port 20)" --access-log off --threads 1
FLOCK_PID=${PIDS[-1]}
bg "$FLOCK_DIR/engine-mode.log" "$BUILD/proxy/flocker-proxy" --listen "tcp://127.0.0.1:$(port 41)" \
  --engine "tcp://$E" --access-log off --threads 1
ENGINE_MODE_PID=${PIDS[-1]}
for n in 1 2; do
  cat >"$FLOCK_DIR/haproxy$n.cfg" <<CFG
global
  maxconn 9000
  nbthread $n
defaults
  mode http
  timeout connect 5s
  timeout client 1h
  timeout server 1h
frontend fe
  bind 127.0.0.1:$(port $((44 + n)))
  default_backend be
backend be
  server e1 $E
CFG
  haproxy -f "$FLOCK_DIR/haproxy$n.cfg" -D -p "$FLOCK_DIR/haproxy$n.pid"
done
flock_wait_ping "tcp://127.0.0.1:$(port 40)" 15
sleep 3  # the flock sees its host healthy
# Whose CPU each target's figure charges: the engine's for direct, the proxy's for the others.
ENGINE_PID=$(cat "$(flock_engine_dir 1)/dockerd.pid")
declare -A PID_OF=([direct]=$ENGINE_PID [flocker]=$FLOCK_PID [flocker-engine]=$ENGINE_MODE_PID
                   [haproxy-1t]=$(cat "$FLOCK_DIR/haproxy1.pid") [haproxy-2t]=$(cat "$FLOCK_DIR/haproxy2.pid"))
# Two layouts. "shared": every process may run on every core, as the OS schedules them; a
# proxy's CPU is CPU the engine does not get. "own-core": the engine (dockerd, and containerd
# under it) alone on the last core, the load generator and the proxies on the others, as when
# the engine is another machine: what the proxy costs the engine's clients, not its CPU.
LAST_CPU=$(( $(nproc) - 1 ))
layout() {
  local engine_cpus="0-$LAST_CPU" other_cpus="0-$LAST_CPU" p
  LOAD=()
  if [ "$1" = own-core ]; then
    engine_cpus=$LAST_CPU
    other_cpus=0-$((LAST_CPU > 1 ? LAST_CPU - 1 : 0))
    LOAD=(taskset -c "$other_cpus")
  fi
  for p in "$ENGINE_PID" $(pgrep -P "$ENGINE_PID"); do taskset -a -cp "$engine_cpus" "$p" >/dev/null; done
  for p in "${PID_OF[@]}"; do
    [ "$p" = "$ENGINE_PID" ] || taskset -a -cp "$other_cpus" "$p" >/dev/null
  done
}
LAYOUTS="shared"
[ "$LAST_CPU" -ge 1 ] && LAYOUTS="shared own-core"
uname -r >"$OUT/machine.txt"
{ nproc; grep -m1 "model name" /proc/cpuinfo | cut -d: -f2; free -g | awk '/Mem:/ {print $2 " GiB"}'; dockerd --version; haproxy -v | head -1; } >>"$OUT/machine.txt"

# measure_passthrough LAYOUT ENDPOINT PATH TARGET=HOST:PORT...: rps, latency and CPU per
# request at concurrency 1, 16, 64, the targets interleaved round by round
measure_passthrough() {
  local lay=$1 ep=$2 path=$3 c t r before after round name vals rps p50 p99 cpu
  shift 3
  for c in 1 16 64; do
    declare -A runs=() cpus=()
    for round in $(seq 1 "$ROUNDS"); do
      for t in "$@"; do
        name=${t%%=*}
        before=$(ticks "${PID_OF[$name]}")
        r=$(wrk_csv "http://${t#*=}$path" "$c")
        after=$(ticks "${PID_OF[$name]}")
        [ "$r" != ERROR ] || { echo "bench: $name answered errors on $path" >&2; exit 1; }
        runs[$name]+="$r "
        cpus[$name]+="$(awk -v t=$((after - before)) -v hz="$HZ" -v n="${r##*,}" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}') "
      done
    done
    for t in "$@"; do
      name=${t%%=*}
      vals=(${runs[$name]})
      rps=$(printf '%s\n' "${vals[@]}" | cut -d, -f1 | median)
      p50=$(printf '%s\n' "${vals[@]}" | cut -d, -f2 | median)
      p99=$(printf '%s\n' "${vals[@]}" | cut -d, -f3 | median)
      cpu=$(printf '%s\n' ${cpus[$name]} | median)
      echo "$lay,$ep,$c,$name,$rps,$p50,$p99,$cpu" >>"$OUT/passthrough.csv"
      echo "  $lay $ep c=$c $name: $rps rps, p50 $p50 us, p99 $p99 us, $cpu us CPU per request"
    done
    unset runs cpus
  done
}

if want 1; then
echo "== 1. pass-through"
targets=("direct=$E" "flocker=127.0.0.1:$(port 40)" "flocker-engine=127.0.0.1:$(port 41)"
         "haproxy-1t=127.0.0.1:$(port 45)" "haproxy-2t=127.0.0.1:$(port 46)")
echo "layout,endpoint,concurrency,target,rps,p50_us,p99_us,cpu_us_per_request" >"$OUT/passthrough.csv"
layout shared
measure_passthrough shared inspect "/v1.41/containers/$CID/json" "${targets[@]}"
measure_passthrough shared ping /_ping "${targets[@]}"
if [[ $LAYOUTS == *own-core* ]]; then
  layout own-core  # one HAProxy thread: the proxies have one core here
  measure_passthrough own-core inspect "/v1.41/containers/$CID/json" "${targets[@]:0:4}"
  layout shared
fi
fi

if want 2; then
echo "== 2. streaming: 1 GiB each way"
docker -H "tcp://$E" run --name bench-big "$FLOCK_BUSYBOX" dd if=/dev/zero of=/big bs=1M count=1024 2>/dev/null
docker -H "tcp://$E" run -d --name bench-sink "$FLOCK_BUSYBOX" sleep 1d >/dev/null
head -c $((1 << 30)) /dev/zero >"$FLOCK_DIR/upload.bin"
export_bytes=$(docker -H "tcp://$E" export bench-big | wc -c)
echo "layout,direction,target,mb_per_s,cpu_s_per_gib" >"$OUT/streaming.csv"
stream_targets=("direct=$E" "flocker=127.0.0.1:$(port 40)" "haproxy-1t=127.0.0.1:$(port 45)")
# timed_stream KEY BYTES PID COMMAND...: appends "MB/s,CPU seconds per GiB of PID" to results[KEY]
declare -A results=()
timed_stream() {
  local key=$1 bytes=$2 pid=$3 t0 t1 c0 c1
  shift 3
  c0=$(ticks "$pid"); t0=$(date +%s.%N)
  "${LOAD[@]}" "$@" >/dev/null
  t1=$(date +%s.%N); c1=$(ticks "$pid")
  results[$key]+="$(awk -v b="$bytes" -v a="$t0" -v z="$t1" -v c=$((c1 - c0)) -v hz="$HZ" \
    'BEGIN {printf "%.0f,%.2f", b / (z - a) / 1e6, c / hz / (b / 1073741824)}') "
}
for lay in $LAYOUTS; do
  layout "$lay"
  for round in $(seq 1 "$ROUNDS"); do
    for t in "${stream_targets[@]}"; do
      name=${t%%=*}
      timed_stream "$lay-export-$name" "$export_bytes" "${PID_OF[$name]}" docker -H "tcp://${t#*=}" export bench-big
      docker -H "tcp://$E" exec bench-sink rm -f /upload.bin
      timed_stream "$lay-upload-$name" $((1 << 30)) "${PID_OF[$name]}" \
        docker -H "tcp://${t#*=}" cp "$FLOCK_DIR/upload.bin" bench-sink:/upload.bin
    done
  done
  for dir in export upload; do
    for t in "${stream_targets[@]}"; do
      name=${t%%=*}
      vals=(${results[$lay-$dir-$name]})
      v=$(printf '%s\n' "${vals[@]}" | cut -d, -f1 | median)
      cpu=$(printf '%s\n' "${vals[@]}" | cut -d, -f2 | median)
      echo "$lay,$dir,$name,$v,$cpu" >>"$OUT/streaming.csv"
      echo "  $lay $dir $name: $v MB/s, $cpu CPU s per GiB"
    done
  done
done
layout shared
echo "flocker_peak_vmhwm_kib,$(peak_kib "$FLOCK_PID" VmHWM)" >"$OUT/streaming-memory.csv"
rm -f "$FLOCK_DIR/upload.bin"
docker -H "tcp://$E" rm -f bench-big bench-sink >/dev/null
fi

if want 3; then
echo "== 3. fan-out: GET /containers/json over N simulated engines, 100 containers each"
echo "engines,p50_us,p99_us,rps" >"$OUT/fanout.csv"
for n in 1 2 4 8 16 32 64; do
  bg "$FLOCK_DIR/fake-flock.log" "$BUILD/bench/flocker-fake-flock" "$n" 100 "$(port 100)"
  fake=${PIDS[-1]}
  sleep 1
  cp "$FLOCK_DIR/fake-flock.log" "$FLOCK_DIR/fake-hosts.txt"
  bg "$FLOCK_DIR/fake-decider.log" "$BUILD/sdk/decider/flocker-decider" --listen "127.0.0.1:$(port 21)" \
    --hosts-file "$FLOCK_DIR/fake-hosts.txt" --log-level warn
  fd=${PIDS[-1]}
  bg "$FLOCK_DIR/fake-proxy.log" "$BUILD/proxy/flocker-proxy" --listen "tcp://127.0.0.1:$(port 42)" \
    --decider "127.0.0.1:$(port 21)" --access-log off --threads 1
  fp=${PIDS[-1]}
  seen=0
  for _ in $(seq 1 100); do
    seen=$(curl -s "http://127.0.0.1:$(port 42)/v1.41/containers/json?all=1" | grep -o '"Id"' | wc -l || true)
    [ "$seen" = $((n * 100)) ] && break
    sleep 0.2
  done
  if [ "$seen" != $((n * 100)) ]; then
    echo "bench: the flock of $n simulated engines lists $seen containers, not $((n * 100)):" >&2
    tail -5 "$FLOCK_DIR/fake-flock.log" "$FLOCK_DIR/fake-proxy.log" >&2
    exit 1
  fi
  one=$(wrk_csv "http://127.0.0.1:$(port 42)/v1.41/containers/json?all=1" 1)
  four=$(wrk_csv "http://127.0.0.1:$(port 42)/v1.41/containers/json?all=1" 4)
  [ "$one" != ERROR ] && [ "$four" != ERROR ] || { echo "bench: errors in the fan-out run" >&2; exit 1; }
  echo "$n,$(echo "$one" | cut -d, -f2,3),$(echo "$four" | cut -d, -f1)" >>"$OUT/fanout.csv"
  echo "  N=$n: p50 $(echo "$one" | cut -d, -f2) us, p99 $(echo "$one" | cut -d, -f3) us (c=1); $(echo "$four" | cut -d, -f1) rps (c=4)"
  kill "$fp" "$fd" "$fake"
  wait "$fp" "$fd" "$fake" 2>/dev/null || true
done
fi

if want 4; then
echo "== 4. connections: 5000 idle GET /events streams"
echo "mode,streams,bytes_per_stream,ping_p50_us,ping_p99_us,ping_p99_idle_us" >"$OUT/connections.csv"
for mode in flocker=40 flocker-engine=41; do
  name=${mode%%=*}
  p=$(port "${mode#*=}")
  pid=$([ "$name" = flocker ] && echo "$FLOCK_PID" || echo "$ENGINE_MODE_PID")
  idle=$(wrk_csv "http://127.0.0.1:$p/_ping" 16)
  before=$(peak_kib "$pid" RssAnon)
  rm -f "$FLOCK_DIR/hold.fifo" && mkfifo "$FLOCK_DIR/hold.fifo"
  /usr/bin/python3 "$REPO/bench/hold_streams.py" "127.0.0.1:$p" 5000 <"$FLOCK_DIR/hold.fifo" >"$FLOCK_DIR/hold.out" 2>&1 &
  holder=$!
  exec 7>"$FLOCK_DIR/hold.fifo"
  for _ in $(seq 1 240); do grep -q open "$FLOCK_DIR/hold.out" && break; sleep 0.5; done
  sleep 1
  after=$(peak_kib "$pid" RssAnon)
  busy=$(wrk_csv "http://127.0.0.1:$p/_ping" 16)
  per=$(( (after - before) * 1024 / 5000 ))
  echo "$name,5000,$per,$(echo "$busy" | cut -d, -f2,3),$(echo "$idle" | cut -d, -f3)" >>"$OUT/connections.csv"
  echo "  $name: $(cat "$FLOCK_DIR/hold.out"), $per bytes per stream, /_ping p99 $(echo "$busy" | cut -d, -f3) us"
  exec 7>&-
  wait "$holder" 2>/dev/null || true
  sleep 2
done
fi

if want 5; then
echo "== 5. decisions"
echo "what,p50_us,p99_us" >"$OUT/decisions.csv"
# (a create copies the image's layer on the vfs driver these engines use: ~0.35 s each)
/usr/bin/python3 "$REPO/bench/create_latency.py" "$FLOCK_BUSYBOX" 60 "create-direct=$E" \
  "create-flocker=127.0.0.1:$(port 40)" | tee -a "$OUT/decisions.csv" | sed 's/^/  /'
bg "$FLOCK_DIR/decision-bench.log" "$BUILD/bench/flocker-decision-bench" serve "127.0.0.1:$(port 22)"
sleep 1
# The proxy's decider client ("run"), and gRPC's own blocking client making the same calls
# ("floor": what two unary calls cost on this machine), interleaved.
declare -A pairs=()
for round in $(seq 1 "$ROUNDS"); do
  for mode in run floor; do
    pairs[$mode]+="$("$BUILD/bench/flocker-decision-bench" "$mode" "127.0.0.1:$(port 22)" 3000 |
      awk '{split($1, a, "="); split($2, b, "="); printf "%.0f,%.0f", a[2], b[2]}') "
  done
done
for mode in run floor; do
  name=route+remap
  [ "$mode" = floor ] && name=route+remap-grpc-blocking
  echo "$name,$(printf '%s\n' ${pairs[$mode]} | cut -d, -f1 | median),$(printf '%s\n' ${pairs[$mode]} | cut -d, -f2 | median)" |
    tee -a "$OUT/decisions.csv" | sed 's/^/  /'
done
# What a wakeup across cores costs here (a pipe ping-pong between two processes), when perf is
# installed: every decider call crosses threads several times.
if perf bench sched pipe -l 20000 >"$FLOCK_DIR/wakeup.txt" 2>&1; then
  awk '/usecs\/op/ {printf "%.1f\n", $1}' "$FLOCK_DIR/wakeup.txt" >"$OUT/wakeup.csv"
else
  rm -f "$OUT/wakeup.csv"
fi
fi

if want 6; then
echo "== 6. image copy: a create placed on a host without its image"
# A second engine, and a decider that places by label (the zone example), so that a create can
# be sent to the host that lacks the image: the proxy copies it there (saved on e1, streamed
# into e2's load), then creates. Compared with the same create when e2 has the image, and
# with the CLI piping `docker save` into `docker load` between the two engines directly.
flock_engine_start 2 >/dev/null
E2=127.0.0.1:$(port 2)
printf '%s e1 zone=a\n%s e2 zone=b\n' "$(flock_engine_tcp 1)" "$(flock_engine_tcp 2)" >"$FLOCK_DIR/zones.txt"
PYTHONPATH="$BUILD/sdk/python/gen:$REPO/sdk/python" bg "$FLOCK_DIR/zone-decider.log" /usr/bin/python3 \
  "$REPO/sdk/python/examples/zone_decider.py" "127.0.0.1:$(port 23)" "$FLOCK_DIR/zones.txt"
bg "$FLOCK_DIR/copy-proxy.log" "$BUILD/proxy/flocker-proxy" --listen "tcp://127.0.0.1:$(port 43)" \
  --decider "127.0.0.1:$(port 23)" --threads 1
flock_wait_ping "tcp://127.0.0.1:$(port 43)" 15
CP="tcp://127.0.0.1:$(port 43)"
for _ in $(seq 1 50); do
  [ "$(curl -s "http://127.0.0.1:$(port 43)/info" | grep -o '"Healthy"' | wc -l)" = 2 ] && break
  sleep 0.2
done
# A 200 MB image: busybox and a layer of 200 MB that does not compress.
mkdir -p "$FLOCK_DIR/big"
printf 'FROM %s\nRUN head -c 200000000 /dev/urandom >/big\n' "$FLOCK_BUSYBOX" >"$FLOCK_DIR/big/Dockerfile"
DOCKER_BUILDKIT=0 docker -H "tcp://$E" build -q -t bench-big:1 "$FLOCK_DIR/big" >/dev/null 2>&1
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
lacks() {  # e2 without image $1, and the proxy's object model told (its image event)
  docker -H "tcp://$E2" rmi -f "$1" >/dev/null 2>&1 || true
  sleep 1
}
create_ms() {  # create_ms IMAGE: a create through the proxy placed on e2, its time in ms
  local t0 t1 id
  t0=$(now_ms)
  id=$(docker -H "$CP" create --label zone=b "$1" true)
  t1=$(now_ms)
  docker -H "$CP" rm "$id" >/dev/null
  echo $((t1 - t0))
}
echo "image,archive_mb,create_copy_ms,create_present_ms,added_ms,copy_mb_s,direct_pipe_mb_s" >"$OUT/image-copy.csv"
for img in "$FLOCK_BUSYBOX" bench-big:1; do
  bytes=$(docker -H "tcp://$E" save "$img" | wc -c)
  copy=() present=() pipe=()
  for round in $(seq 1 "$ROUNDS"); do
    lacks "$img"
    copy+=("$(create_ms "$img")")
    present+=("$(create_ms "$img")")
    lacks "$img"
    t0=$(now_ms)
    docker -H "tcp://$E" save "$img" | docker -H "tcp://$E2" load -q >/dev/null
    pipe+=("$(( $(now_ms) - t0 ))")
  done
  c=$(printf '%s\n' "${copy[@]}" | median)
  p=$(printf '%s\n' "${present[@]}" | median)
  d=$(printf '%s\n' "${pipe[@]}" | median)
  added=$((c - p))
  name=busybox
  [ "$img" = bench-big:1 ] && name=200MB
  echo "$name,$(awk -v b="$bytes" 'BEGIN {printf "%.1f", b / 1e6}'),$c,$p,$added,$(awk -v b="$bytes" -v ms="$added" 'BEGIN {printf "%.0f", (ms > 0 ? b / 1e3 / ms : 0)}'),$(awk -v b="$bytes" -v ms="$d" 'BEGIN {printf "%.0f", b / 1e3 / ms}')" |
    tee -a "$OUT/image-copy.csv" | sed 's/^/  /'
done
grep 'copied image' "$FLOCK_DIR/copy-proxy.log" | tail -2 | sed 's/^/  proxy: /'
fi

if want 7; then
  source "$REPO/bench/merged-reads.sh"
fi

echo "== report"
/usr/bin/python3 "$REPO/bench/report.py" "$OUT" "$REPO/docs"
echo "written: docs/benchmarks.md, docs/bench/*.png"
