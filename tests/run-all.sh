#!/usr/bin/env bash
# Runs every flocker test: installs what is missing, builds, then
#   1. unit and component tests (GoogleTest, through ctest);
#   2. the node.js and Python decider SDKs' own tests;
#   3. the unit and component tests again under ASan/UBSan (skip with FLOCKER_NO_SANITIZE=1);
#   4. end-to-end tests against real docker engines (tests/e2e/*.sh; need root).
# Exits non-zero on any failure.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

# How long each part took, printed at the end (and on a failure): CI has a time budget, and
# this is where to look when it grows.
t_all=$(date +%s) t_part=$t_all part=""
times=()
phase() {  # phase NAME: the part that starts now
  local t; t=$(date +%s)
  [ -z "$part" ] || times+=("$(printf '%5d s  %s' $((t - t_part)) "$part")")
  part=$1 t_part=$t
  [ -z "$1" ] || echo "== $1"
}
print_times() {
  phase ""
  echo "== time by part ($(( $(date +%s) - t_all )) s in all)"
  printf '%s\n' "${times[@]}"
}
trap print_times EXIT

phase "install and build"

bash deploy/install-deps.sh
bash deploy/build.sh

phase "unit and component tests"
ctest --test-dir build --output-on-failure -j "$(nproc)" --timeout 300

phase "decider SDKs: node.js and Python"
bash sdk/run-sdk-tests.sh

if [ "${FLOCKER_NO_SANITIZE:-0}" != 1 ]; then
  phase "build under ASan/UBSan"
  # Unity batches here (cmake/build_speed.cmake): 8 minutes rather than 13; the release build
  # above compiles file by file, so both ways are checked.
  BUILD_DIR=$repo/build-asan FLOCKER_SANITIZE=address,undefined CMAKE_BUILD_TYPE=Debug \
    FLOCKER_UNITY=ON bash deploy/build.sh
  phase "unit and component tests under ASan/UBSan"
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j "$(nproc)" --timeout 600
fi

if [ "${FLOCKER_NO_FUZZ:-0}" != 1 ]; then
  phase "fuzzing: every libFuzzer target under ASan/UBSan"
  bash tests/fuzz/run.sh "${FLOCKER_FUZZ_SECONDS:-15}"
fi

shopt -s nullglob
e2e=(tests/e2e/[0-9]*.sh)
if ((${#e2e[@]})); then
  echo "== end-to-end tests against real engines"
  for t in "${e2e[@]}"; do
    phase "e2e $t"
    bash "$t"
  done
fi
if [ "${FLOCKER_NO_SOAK:-0}" != 1 ]; then
  phase "soak: mixed load while engines are killed, frozen and restarted"
  SOAK_SECONDS=${FLOCKER_SOAK_SECONDS:-100} bash bench/soak.sh
fi
phase ""
echo "== all tests passed"
