#!/usr/bin/env bash
# BuildKit through the flock (issue 26), against 3 real engines, the reference decider, the
# docker CLI v28 with the buildx plugin (`docker build` is BuildKit: /grpc and /session, both
# upgraded to h2c) and Debian's CLI 20.10 with DOCKER_BUILDKIT=1 (POST /build?version=2 and
# /session):
#   the default builder's driver is `docker`; build then run; a build with --secret; four
#   concurrent builds from one client, each running its own image; a rebuild shows CACHED; a
#   build denied by Authorize fails naming the refusal; the 20.10 CLI's BuildKit build.
# Nothing here may reach a public registry: every FROM is the test registry's busybox, and
# when flocker does not relay /grpc the buildx parts are skipped. buildx takes an endpoint
# whose /grpc upgrade fails for one without BuildKit and falls back to its docker-container
# driver, which has an engine pull moby/buildkit from Docker Hub.
source "$(dirname "$0")/lib.sh"

# The plugin built from buildx's public source (../shared/tools/README.md), beside the clone.
BUILDX=${FLOCKER_BUILDX:-}
for candidate in "$REPO/../shared/tools/docker-buildx-v0.10.4" /work/shared/tools/docker-buildx-v0.10.4; do
  if [ -z "$BUILDX" ] && [ -f "$candidate" ]; then BUILDX=$candidate; fi
done
BUILDX=${BUILDX:-$REPO/../shared/tools/docker-buildx-v0.10.4}
if [ ! -f "$BUILDX" ]; then
  if [ "${FLOCKER_E2E_REQUIRED:-0}" = 1 ]; then
    echo "FAIL buildkit: the buildx plugin is not at $BUILDX" >&2
    exit 1
  fi
  echo "SKIP buildkit: the buildx plugin is not at $BUILDX"
  exit 0
fi

e2e_begin buildkit 3
# The CLI v28's default: BuildKit through the buildx plugin, installed for this run only.
unset DOCKER_BUILDKIT BUILDX_BUILDER BUILDX_CONFIG DOCKER_CONTEXT
export DOCKER_CONFIG=$FLOCK_DIR/docker-config
mkdir -p "$DOCKER_CONFIG/cli-plugins"
cp "$BUILDX" "$DOCKER_CONFIG/cli-plugins/docker-buildx"
chmod 755 "$DOCKER_CONFIG/cli-plugins/docker-buildx"

write_hosts 3
start_decider
start_proxy --decider "$DECIDER" --health-interval 0.5
wait_healthy_hosts 3 || true

IMG=$FLOCK_BUSYBOX
ctx=$FLOCK_DIR/ctx
PT() { timeout 120 docker -H "$PROXY" "$@"; }  # a build that hangs fails instead
# Runs use --pull=never: an image that a failed build did not make is not looked for on
# Docker Hub.
# "DRIVER STATUS" of the default builder as `docker buildx ls` through $1 shows it, e.g.
# "docker running" (BuildKit over /grpc) or "docker-container inactive" (the fallback).
builder_of() {
  { timeout 60 docker -H "$1" buildx ls 2>/dev/null || true; } |
    awk '$1 == "default" && $2 == "*" {d = $3} $1 == "default" && $2 == "default" {s = $3} END {print d " " s}'
}
# Before each part that runs buildx through $1: true while its default builder's driver is
# `docker`; otherwise records the part ($2) as failed and skipped.
relays_grpc() {
  local b
  b=$(builder_of "$1")
  [ "${b%% *}" = docker ] && return 0
  expect_eq "skipped: $2 (through $1 buildx would fall back to docker-container)" "docker" "${b%% *}"
  return 1
}
# built DESC OUT CMD...: runs CMD with its output in file OUT and records "ok", or its exit
# code and its last lines (where a build says why it failed).
built() {
  local desc=$1 out=$2 rc=0
  shift 2
  "$@" >"$out" 2>&1 || rc=$?
  expect_eq "$desc" "ok" "$(if [ "$rc" = 0 ]; then echo ok; else echo "exit $rc:"; tail -6 "$out"; fi)"
}
dockerfile() {  # dockerfile DIR LINES...: DIR/Dockerfile, FROM the test registry's busybox
  local dir=$1
  shift
  mkdir -p "$dir"
  { echo "FROM $IMG"; printf '%s\n' "$@"; } >"$dir/Dockerfile"
}

echo "== the default builder through flocker: driver docker (flocker relays /grpc)"
read -r drv status _ <<<"$(builder_of "$PROXY") - -"
expect_eq "docker buildx ls: the default builder's driver" "docker" "$drv"
expect_eq "docker buildx ls: its node is running" "running" "$status"
if [ "$drv" = docker ]; then

  echo "== build, then run"
  dockerfile "$ctx/one" 'RUN echo built-by-buildkit >/msg' 'CMD ["cat", "/msg"]'
  built "docker build -t bk1 (BuildKit, the default builder)" "$FLOCK_DIR/bk1.out" PT build -t bk1 "$ctx/one"
  expect_eq "docker run --rm bk1: what its CMD prints" "built-by-buildkit" "$(P run --rm --pull=never bk1 2>&1)"

  if relays_grpc "$PROXY" "build --secret"; then
    echo "== a build with --secret (the engine reads it back over /session)"
    tok=tok-$RANDOM$RANDOM
    echo "$tok" >"$FLOCK_DIR/tok.txt"  # outside the context
    dockerfile "$ctx/secret" 'RUN --mount=type=secret,id=tok cat /run/secrets/tok >/tok' 'CMD ["cat", "/tok"]'
    built "docker build --secret id=tok,src=FILE -t bksecret" "$FLOCK_DIR/bksecret.out" \
      PT build --secret "id=tok,src=$FLOCK_DIR/tok.txt" -t bksecret "$ctx/secret"
    expect_eq "docker run --rm bksecret: the secret's content" "$tok" "$(P run --rm --pull=never bksecret 2>&1)"
  fi

  if relays_grpc "$PROXY" "four concurrent builds"; then
    echo "== four concurrent builds from one client: each gets its own session, on its own solve's engine"
    pids=()
    for i in 1 2 3 4; do
      dockerfile "$ctx/c$i" "RUN echo concurrent-$i >/msg" 'CMD ["cat", "/msg"]'
      built "concurrent docker build -t bkc$i" "$FLOCK_DIR/bkc$i.out" PT build -t "bkc$i" "$ctx/c$i" \
        >"$FLOCK_DIR/bkc$i.result" &
      pids+=("$!")
    done
    wait "${pids[@]}"  # not a bare wait: the decider and the proxy are this shell's too
    cat "$FLOCK_DIR"/bkc[1-4].result
    passed=$(cat "$FLOCK_DIR"/bkc[1-4].result | grep -c '^  ok' || true)
    E2E_PASS=$((E2E_PASS + passed))  # the background checks' tally, back to this shell
    E2E_FAIL=$((E2E_FAIL + 4 - passed))
    outs=""
    for i in 1 2 3 4; do outs+="$(P run --rm --pull=never "bkc$i" 2>&1 | head -1 || true) "; done
    expect_eq "docker run --rm bkc1..4: each its own output" \
      "concurrent-1 concurrent-2 concurrent-3 concurrent-4 " "$outs"
  fi

  if relays_grpc "$PROXY" "a cached rebuild"; then
    echo "== a rebuild of the same Dockerfile is cached"
    built "docker build --progress=plain -t bk1 again" "$FLOCK_DIR/bk1-again.out" \
      PT build --progress=plain -t bk1 "$ctx/one"
    # "#5 [2/2] RUN echo built-by-buildkit >/msg" then "#5 CACHED"
    cached=$(awk '/^#[0-9]+ \[2\/2\] RUN / {n = $1} n != "" && $1 == n && $2 == "CACHED" {print "CACHED"; exit}' \
      "$FLOCK_DIR/bk1-again.out")
    expect_eq "its RUN step shows CACHED" "CACHED" "${cached:-$(tail -8 "$FLOCK_DIR/bk1-again.out")}"
  fi

  echo "== a build the decider denies (Authorize: flocker-decider --deny build)"
  DECIDER_DENY=127.0.0.1:$((FLOCK_PORT_BASE + 21))
  "$BUILD/sdk/decider/flocker-decider" --listen "$DECIDER_DENY" --hosts-file "$FLOCK_DIR/hosts.txt" \
    --deny build >>"$FLOCK_DIR/decider-deny.log" 2>&1 </dev/null &
  E2E_PIDS+=("$!")
  start_proxy_n 1 --decider "$DECIDER_DENY" --authorize --health-interval 0.5
  wait_healthy_hosts_at "${PROXY_1#tcp://}" 3 || true
  # The refusal must not turn into a failed /grpc upgrade: buildx would take that for an
  # engine without BuildKit and fall back to docker-container.
  read -r ddrv _ <<<"$(builder_of "$PROXY_1") -"
  expect_eq "docker buildx ls through it: the default builder's driver is still docker" "docker" "$ddrv"
  if [ "$ddrv" = docker ]; then
    out=$(timeout 120 docker -H "$PROXY_1" build -t bkdenied "$ctx/one" 2>&1) && rc=0 || rc=$?
    expect_eq "docker build through it fails" "failed" "$([ "$rc" != 0 ] && echo failed || echo "exit 0")"
    # The decider's message in BuildKit's error, or an engine's kind of refusal of the
    # /session upgrade (buildx drops the body: "unable to upgrade to h2c, received 403").
    expect_match "  ...naming the refusal" "build requests are not allowed|received 403" "$out"
    expect_eq "  ...and nothing named bkdenied on any engine" "" \
      "$(for i in 1 2 3; do E "$i" images -q bkdenied; done)"
  else
    expect_eq "skipped: the denied build (buildx would fall back to docker-container)" "docker" "$ddrv"
  fi
else
  for part in "build, then run" "build --secret" "four concurrent builds" "a cached rebuild" \
    "a build the decider denies"; do
    expect_eq "skipped: $part (flocker does not relay /grpc: buildx would fall back to docker-container)" \
      "docker" "$drv"
  done
fi

# Debian's docker.io CLI: no buildx, no /grpc; its BuildKit build is POST /build?version=2&
# session=ID, then POST /session (X-Docker-Expose-Session-Uuid: ID) on another connection.
# It never falls back to docker-container, so it runs whether or not /grpc is relayed.
echo "== the older CLI's BuildKit: /usr/bin/docker 20.10, DOCKER_BUILDKIT=1"
dockerfile "$ctx/old" 'RUN echo built-by-cli-20.10 >/msg' 'CMD ["cat", "/msg"]'
built "DOCKER_BUILDKIT=1 /usr/bin/docker build -t bk20" "$FLOCK_DIR/bk20.out" \
  env DOCKER_BUILDKIT=1 timeout 120 /usr/bin/docker -H "$PROXY" build -t bk20 "$ctx/old"
expect_eq "docker run --rm bk20: what its CMD prints" "built-by-cli-20.10" "$(P run --rm --pull=never bk20 2>&1)"

echo "== no trace of the docker-container fallback"
expect_eq "no container named buildx_buildkit_* on any engine" "" \
  "$(for i in 1 2 3; do E "$i" ps -aq --filter name=buildx_buildkit; done)"
expect_eq "no pull of moby/buildkit reached a proxy" "0" \
  "$(cat "$FLOCK_DIR"/proxy*.log | grep -ci 'moby%2fbuildkit\|moby/buildkit' || true)"

e2e_end
