#!/usr/bin/env bash
# Streaming through flocker vs the engine directly, on a real engine: `docker export` of a
# container holding a 1 GiB file (download) and `docker cp` of a 1 GiB file into one
# (upload). Interleaved runs; prints MB/s for each and flocker's peak RSS.
#   bash bench/stream-real.sh [runs]
set -euo pipefail
# The engine on loopback in the host's network namespace, as in earlier runs (deploy/flock-lib.sh).
export FLOCK_NETNS=0
source "$(dirname "$0")/../tests/e2e/lib.sh"
RUNS=${1:-3}
E2E_PORT_BASE=${E2E_PORT_BASE:-27500}
e2e_begin bench-stream 1
start_proxy --engine "$(flock_engine_sock 1)" --access-log off
D=$(flock_engine_tcp 1)
work=$FLOCK_DIR/work
mkdir -p "$work"
docker -H "$D" run --name big "$FLOCK_BUSYBOX" dd if=/dev/zero of=/big bs=1M count=1024 2>/dev/null
docker -H "$D" run -d --name sink "$FLOCK_BUSYBOX" sleep 3600 >/dev/null
head -c $((1 << 30)) /dev/zero >"$work/upload.bin"

mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.0f", b / s / 1e6 }'; }
timed() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'; }

export_bytes=$(docker -H "$D" export big | wc -c)
for run in $(seq 1 "$RUNS"); do
  for target in direct flocker; do
    host=$D
    [ $target = flocker ] && host=$PROXY
    s=$(timed sh -c "docker -H $host export big >/dev/null")
    echo "export $target run=$run $(mbps "$export_bytes" "$s") MB/s"
    docker -H "$D" exec sink rm -f /upload.bin
    s=$(timed docker -H "$host" cp "$work/upload.bin" sink:/upload.bin)
    echo "cp-upload $target run=$run $(mbps $((1 << 30)) "$s") MB/s"
  done
done
echo "flocker peak RSS: $(awk '/VmHWM/ {printf "%.1f MiB", $2 / 1024}' "/proc/$PROXY_PID/status")"
docker -H "$D" rm -f big sink >/dev/null
