#!/usr/bin/env bash
# What the flock adds to a BuildKit build (today's `docker build`: the CLI v28 with the buildx
# plugin of ../shared/tools, its default builder, the `docker` driver): a small multi-stage
# Dockerfile built on one engine directly and through flocker (3 engines, the reference
# decider), with a cold cache (the builder's cache and the images pruned first) and a warm one
# (the same build again), interleaved direct / flocker, BENCH_ROUNDS times; medians.
#   bash bench/buildkit.sh              (root; ~3 minutes)
# Settings: BENCH_ROUNDS (default 5), BENCH_PORT_BASE (default 24800), FLOCKER_NO_BUILD=1,
# FLOCKER_BUILDX (the plugin). Prints a table and writes bench/results/buildkit.csv.
set -euo pipefail
# Each engine in a network namespace of its own (deploy/flock-lib.sh): a RUN step needs its
# bridge, which the loopback layout of bench/run.sh (--bridge=none) does not have.
export FLOCK_NETNS=1
# Apart from bench/run.sh (21000-23000), flock-up.sh (23750), deploy/coordinated (24500),
# bench/coordination.sh (24700) and the e2e tests (26000-31999).
export FLOCK_DIR=/tmp/flocker-bench-buildkit FLOCK_PORT_BASE=${BENCH_PORT_BASE:-24800}
source "$(dirname "$0")/bench-lib.sh"
ROUNDS=${BENCH_ROUNDS:-5}
BUILDX=${FLOCKER_BUILDX:-$REPO/../shared/tools/docker-buildx-v0.10.4}
[ -f "$BUILDX" ] || BUILDX=/work/shared/tools/docker-buildx-v0.10.4
[ -x "$BUILDX" ] || [ -f "$BUILDX" ] || { echo "bench: no buildx plugin at $BUILDX" >&2; exit 1; }
bench_prepare
bench_flock 3
export DOCKER_CONFIG=$FLOCK_DIR/docker-config
mkdir -p "$DOCKER_CONFIG/cli-plugins"
cp "$BUILDX" "$DOCKER_CONFIG/cli-plugins/docker-buildx"
chmod 755 "$DOCKER_CONFIG/cli-plugins/docker-buildx"
unset DOCKER_BUILDKIT
DIRECT=$(flock_engine_tcp 1)
docker -H "$PROXY" buildx ls | grep -q ' docker' || { echo "bench: buildx does not see flocker's BuildKit" >&2; exit 1; }
for i in 1 2 3; do docker -H "$(flock_engine_tcp "$i")" pull -q "$FLOCK_BUSYBOX" >/dev/null; done

# Two stages: a "compile" step writing 20 MB, a final stage copying its result.
ctx=$FLOCK_DIR/ctx
mkdir -p "$ctx"
cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $FLOCK_BUSYBOX AS build
RUN dd if=/dev/urandom of=/artifact bs=1M count=20 2>/dev/null && sha256sum /artifact > /artifact.sum
RUN echo compiled > /status
FROM $FLOCK_BUSYBOX
COPY --from=build /artifact.sum /status /
CMD ["cat", "/status"]
DOCKERFILE

prune_all() {  # every engine: no build cache, no benchmark image
  local i
  for i in 1 2 3; do
    docker -H "$(flock_engine_tcp "$i")" builder prune -af >/dev/null 2>&1 || true
    docker -H "$(flock_engine_tcp "$i")" rmi -f bkbench >/dev/null 2>&1 || true
  done
}
build_ms() {  # build_ms DOCKER_HOST: one build, its wall time in ms
  local start end
  start=$(date +%s%N)
  docker -H "$1" build -q -t bkbench "$ctx" >/dev/null 2>"$FLOCK_DIR/build.err" || { cat "$FLOCK_DIR/build.err" >&2; exit 1; }
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

declare -A times
for round in $(seq 1 "$ROUNDS"); do
  for target in direct flocker; do
    host=$DIRECT
    [ "$target" = flocker ] && host=$PROXY
    prune_all
    cold=$(build_ms "$host")
    warm=$(build_ms "$host")
    times[$target,cold]+="$cold "
    times[$target,warm]+="$warm "
    echo "round $round: $target cold $cold ms, warm $warm ms" >&2
  done
done
echo "target,cache,rounds,median_ms" >"$OUT/buildkit.csv"
printf '%-8s %-5s %10s\n' target cache "median ms"
for cache in cold warm; do
  for target in direct flocker; do
    m=$(tr ' ' '\n' <<<"${times[$target,$cache]}" | grep . | median)
    echo "$target,$cache,$ROUNDS,$m" >>"$OUT/buildkit.csv"
    printf '%-8s %-5s %10s   (%s)\n' "$target" "$cache" "$m" "${times[$target,$cache]% }"
  done
done
