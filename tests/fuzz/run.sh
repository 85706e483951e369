#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang++-14, ASan + UBSan, in build-fuzz/) and
# runs each for SECONDS (default 60), two at a time, on a copy of its checked-in seed corpus
# (tests/fuzz/corpus/<target>/ is never written to). Exits non-zero on any crash, sanitizer
# report, leak, timeout or broken invariant; the input that did it is kept as
# $FUZZ_WORK/artifacts/<target>-crash-... and its report in $FUZZ_WORK/<target>.log.
# Prints per target: executions, exec/s, final coverage (libFuzzer's cov: and ft:), corpus.
#
#   bash tests/fuzz/run.sh [SECONDS]
#   FUZZ_BUILD_DIR=build-fuzz  FUZZ_WORK=/tmp/flocker-fuzz.XXXX  FUZZ_TARGETS="fuzz_query ..."
#   FUZZ_JOBS=2 (fuzzers at once)
# How long: 8 targets x SECONDS / 2 at a time, plus the build: with the default 60 s about
# 4 min of fuzzing, plus ~5 min for a clean build on 2 cores (seconds when it is up to date).
# To replay an input: build-fuzz/tests/fuzz/<target> FILE (no fuzzing, just that input).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
build=${FUZZ_BUILD_DIR:-$repo/build-fuzz}
jobs=${FUZZ_JOBS:-2}
work=${FUZZ_WORK:-$(mktemp -d /tmp/flocker-fuzz.XXXXXX)}
cxx=${FUZZ_CXX:-clang++-14}
command -v "$cxx" >/dev/null || { echo "run.sh: $cxx not found (bash deploy/install-deps.sh)" >&2; exit 2; }

start=$(date +%s)
cmake -S "$repo" -B "$build" -G Ninja -DFLOCKER_FUZZ=ON -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "${FUZZ_BUILD_JOBS:-2}"
built=$(date +%s)

targets=${FUZZ_TARGETS:-$(cd "$repo/tests/fuzz" && ls fuzz_*.cc | sed 's/\.cc$//')}
mkdir -p "$work/artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_one() {
  local t=$1
  rm -rf "$work/corpus-$t"
  mkdir -p "$work/corpus-$t"
  if [ -d "$repo/tests/fuzz/corpus/$t" ]; then cp -r "$repo/tests/fuzz/corpus/$t/." "$work/corpus-$t/"; fi
  local rc=0
  "$build/tests/fuzz/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/$t-" \
    "$work/corpus-$t" >"$work/$t.log" 2>&1 || rc=$?
  echo "$rc" >"$work/$t.rc"
}

running=0
for t in $targets; do
  if ((running >= jobs)); then
    wait -n || true
    running=$((running - 1))
  fi
  echo "fuzzing $t for ${secs}s"
  run_one "$t" &
  running=$((running + 1))
done
wait || true

failed=0
printf '\n%-22s %12s %9s %7s %8s %8s  %s\n' target executions exec/s cov ft corpus result
for t in $targets; do
  log=$work/$t.log
  rc=$(cat "$work/$t.rc" 2>/dev/null || echo "?")
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$last")
  result=ok
  if [ "$rc" != 0 ] || ls "$work/artifacts/$t-"* >/dev/null 2>&1; then
    result="FAILED (rc $rc): see $log"
    failed=1
  fi
  printf '%-22s %12s %9s %7s %8s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" \
    "${corp:-?}" "$result"
done
end=$(date +%s)
echo
echo "build $((built - start)) s, fuzzing $((end - built)) s; logs and artifacts in $work"
if ((failed)); then
  for t in $targets; do
    if [ "$(cat "$work/$t.rc" 2>/dev/null)" != 0 ]; then
      echo "---- $t"
      grep -E -m1 -A12 'ERROR: |runtime error|invariant broken|deadly signal|Timeout|out-of-memory' \
        "$work/$t.log" || tail -20 "$work/$t.log"
    fi
  done
  exit 1
fi
