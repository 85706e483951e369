#!/usr/bin/env bash
# Configures and builds flocker into BUILD_DIR (default: build/ in the repo).
#   FLOCKER_WERROR=OFF      warnings in our code are not errors (they are by default, as on CI)
#   FLOCKER_SANITIZE=address,undefined   sanitizer build (use another BUILD_DIR)
#   FLOCKER_PCH=OFF         no precompiled headers (cmake/flocker_pch.h), e.g. to check includes
#   FLOCKER_UNITY=ON        the proxy's layers compiled in unity batches (cmake/build_speed.cmake)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$repo/build}
cmake -S "$repo" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}" \
  -DFLOCKER_WERROR="${FLOCKER_WERROR:-ON}" \
  -DFLOCKER_SANITIZE="${FLOCKER_SANITIZE:-}" \
  -DFLOCKER_PCH="${FLOCKER_PCH:-ON}" \
  -DFLOCKER_UNITY="${FLOCKER_UNITY:-OFF}" >/dev/null
cmake --build "$build" -j "$(nproc)"
