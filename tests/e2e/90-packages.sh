#!/usr/bin/env bash
# flocker as its users get it, outside this repository (docs/install.md):
#   - cmake --install into a prefix; a C++ decider built out of tree with find_package(flocker)
#     against that prefix serves a docker run through the installed flocker-proxy;
#   - pip install of sdk/python into a venv: a Python decider run from outside the repository,
#     without PYTHONPATH, serves a docker run;
#   - npm pack of sdk/node, the tarball installed in an empty project: a node decider from there
#     serves a docker run;
#   - cpack's .deb packages install with dpkg, their binaries run, and dpkg -r removes them
#     (skipped when a flocker package is installed here already: that one is left alone).
# The deciders are the SDKs' examples (label_decider.cc, zone_decider.py, zone-decider.js): each
# puts a container labelled zone=b on e2.
source "$(dirname "$0")/lib.sh"
e2e_begin packages 2

IMG=$FLOCK_BUSYBOX
WORK=$FLOCK_DIR/packages   # removed with the flock (kept with E2E_KEEP=1)
PREFIX=$WORK/prefix
RUN=$WORK/run              # where the deciders run: no repository around them
mkdir -p "$WORK/src" "$RUN"
write_hosts 2 zone=a zone=b
cp "$FLOCK_DIR/hosts.txt" "$RUN/hosts.txt"

DEBS_INSTALLED=0
packages_cleanup() {
  if [ "$DEBS_INSTALLED" = 1 ]; then dpkg -r flocker-dev flocker >/dev/null 2>&1 || true; fi
}
trap 'packages_cleanup; e2e_cleanup' EXIT

# A copy of the repository's sources for pip and npm to build in (both write next to the
# sources), in the same layout: sdk/python and sdk/node find the proto at ../../proto.
(cd "$REPO" && tar cf - --exclude=node_modules --exclude=build --exclude=dist --exclude='*.egg-info' \
  --exclude=__pycache__ sdk/python sdk/node proto) | (cd "$WORK/src" && tar xf -)

# Runs a decider (the command given, from $RUN, with no path into the repository in its
# environment), then the installed flocker-proxy asking it; checks two docker runs.
scenario() {  # scenario NAME COMMAND...
  local name=$1 decider_pid
  shift
  (cd "$RUN" && exec env -u PYTHONPATH -u FLOCKER_PROTO_DIR -u FLOCKER_PYTHON_GEN -u NODE_PATH "$@") \
    >"$FLOCK_DIR/decider-$name.log" 2>&1 </dev/null &
  decider_pid=$!
  E2E_PIDS+=("$decider_pid")
  # The proxy's first List must find it listening (else the inventory waits for the next refresh).
  for _ in $(seq 1 100); do nc -z "${DECIDER%:*}" "${DECIDER##*:}" 2>/dev/null && break; sleep 0.1; done
  "$PREFIX/bin/flocker-proxy" --listen "$PROXY" --listen "$PROXY_SOCK" --decider "$DECIDER" \
    --health-interval 0.5 >"$FLOCK_DIR/proxy.log" 2>&1 </dev/null &
  PROXY_PID=$!
  E2E_PIDS+=("$PROXY_PID")
  flock_wait_ping "$PROXY" 15 || { echo "proxy did not start:"; tail "$FLOCK_DIR/proxy.log"; exit 1; }
  wait_healthy_hosts 2 || true
  expect_eq "$name: docker run --rm echo hi" "hi" "$(P run --rm "$IMG" echo hi)"
  P run -d --name "pkg-$name" --label zone=b "$IMG" sleep 600 >/dev/null 2>&1 || true
  expect_eq "$name: a container labelled zone=b is on e2" "pkg-$name" \
    "$(E 2 ps --format '{{.Names}}' --filter "name=^pkg-$name\$")"
  P rm -f "pkg-$name" >/dev/null 2>&1 || true
  kill "$PROXY_PID" "$decider_pid" 2>/dev/null || true
  wait "$PROXY_PID" "$decider_pid" 2>/dev/null || true
  if [ "$E2E_FAIL" -ne 0 ]; then echo "--- $name decider log (tail)"; tail -20 "$FLOCK_DIR/decider-$name.log"; fi
}

echo "== cmake --install, and a C++ decider built out of tree with find_package(flocker)"
libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' "$BUILD/CMakeCache.txt")
check "cmake --install $BUILD --prefix <tmp>" cmake --install "$BUILD" --prefix "$PREFIX"
for f in bin/flocker-proxy bin/flocker-decider share/flocker/proto/flocker/v1/decider.proto \
         include/flocker/sdk/server.h include/flocker/v1/decider.grpc.pb.h \
         "$libdir/libflocker_sdk.a" "$libdir/libflocker_proto.a" "$libdir/cmake/flocker/flockerConfig.cmake"; do
  check "installed: $f" test -f "$PREFIX/$f"
done
mkdir -p "$WORK/cxx"
cp "$REPO/sdk/cpp/examples/label_decider.cc" "$WORK/cxx/"
cat >"$WORK/cxx/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.22)
project(label_decider LANGUAGES CXX)
find_package(flocker CONFIG REQUIRED)
add_executable(label-decider label_decider.cc)
target_link_libraries(label-decider PRIVATE flocker::sdk)
CMAKE
check "out of tree: cmake configure (CMAKE_PREFIX_PATH=<tmp>)" \
  cmake -S "$WORK/cxx" -B "$WORK/cxx/build" -DCMAKE_PREFIX_PATH="$PREFIX"
expect_eq "out of tree: flocker found in the prefix" "$PREFIX/$libdir/cmake/flocker" \
  "$(sed -n 's/^flocker_DIR:PATH=//p' "$WORK/cxx/build/CMakeCache.txt")"
check "out of tree: cmake --build" cmake --build "$WORK/cxx/build" -j2
scenario cpp "$WORK/cxx/build/label-decider" "$DECIDER" \
  "e1=$(flock_engine_tcp 1),zone=a" "e2=$(flock_engine_tcp 2),zone=b"

echo "== pip install sdk/python into a venv; a Python decider without PYTHONPATH"
py=$WORK/venv/bin/python
check "python3 -m venv --system-site-packages" /usr/bin/python3 -m venv --system-site-packages "$WORK/venv"
check "pip install --no-build-isolation --no-index ./sdk/python" \
  "$py" -m pip install --no-build-isolation --no-index "$WORK/src/sdk/python"
expect_match "flocker_decider comes from the venv" "^$WORK/venv/lib/python3[.0-9]*/site-packages/flocker_decider/" \
  "$(cd "$RUN" && env -u PYTHONPATH "$py" -c 'import flocker_decider; print(flocker_decider.__file__)' 2>&1)"
cp "$REPO/sdk/python/examples/zone_decider.py" "$RUN/"
scenario python "$py" zone_decider.py "$DECIDER" hosts.txt

echo "== npm pack sdk/node; the tarball installed elsewhere; a node decider from there"
check "npm pack" bash -c "cd '$WORK/src/sdk/node' && npm pack --pack-destination '$WORK' >/dev/null 2>'$WORK/npm-pack.log'"
tarball=$(ls "$WORK"/flocker-*.tgz 2>/dev/null | head -1)
expect_match "the tarball carries the proto" "package/proto/flocker/v1/decider.proto" "$(tar tzf "$tarball" 2>&1)"
mkdir -p "$WORK/node-project"
echo '{ "name": "a-decider", "private": true }' >"$WORK/node-project/package.json"
check "npm install <tarball>" bash -c "cd '$WORK/node-project' && npm install --no-audit --no-fund --prefer-offline '$tarball' >'$WORK/npm-install.log' 2>&1"
sed "s|require('\\.\\.')|require('flocker')|" "$REPO/sdk/node/examples/zone-decider.js" >"$WORK/node-project/zone-decider.js"
scenario node node "$WORK/node-project/zone-decider.js" "$DECIDER" hosts.txt

echo "== cpack -G DEB: the packages install, run and go away"
check "cpack -G DEB" bash -c "cd '$WORK' && cpack -G DEB --config '$BUILD/CPackConfig.cmake' -B '$WORK/deb' >'$WORK/cpack.log' 2>&1"
deb=$(ls "$WORK"/deb/flocker_*.deb 2>/dev/null | head -1)
dev=$(ls "$WORK"/deb/flocker-dev_*.deb 2>/dev/null | head -1)
expect_match "flocker's Depends (dpkg-shlibdeps) name libgrpc++" "libgrpc\+\+" "$(dpkg-deb -f "$deb" Depends 2>&1)"
if dpkg-query -W -f='${Status}' flocker flocker-dev 2>/dev/null | grep -q "ok installed"; then
  echo "  skip dpkg -i: a flocker package is installed on this machine already"
else
  DEBS_INSTALLED=1
  check "dpkg -i flocker flocker-dev" dpkg -i "$deb" "$dev"
  expect_match "/usr/bin/flocker-proxy --help" "--decider" "$(/usr/bin/flocker-proxy --help 2>&1)"
  expect_match "/usr/bin/flocker-decider --help" "--hosts-file" "$(/usr/bin/flocker-decider --help 2>&1)"
  check "the proto is in /usr/share/flocker/proto" test -f /usr/share/flocker/proto/flocker/v1/decider.proto
  rm -rf "$WORK/cxx/build-deb"
  check "find_package(flocker) finds flocker-dev's package" \
    cmake -S "$WORK/cxx" -B "$WORK/cxx/build-deb"
  expect_eq "... in /usr" "/usr/$libdir/cmake/flocker" \
    "$(sed -n 's/^flocker_DIR:PATH=//p' "$WORK/cxx/build-deb/CMakeCache.txt")"
  check "dpkg -r flocker-dev flocker" dpkg -r flocker-dev flocker
  DEBS_INSTALLED=0
  check "nothing left: /usr/bin/flocker-proxy" test ! -e /usr/bin/flocker-proxy
  check "nothing left: /usr/include/flocker" test ! -e /usr/include/flocker
  expect_eq "dpkg knows no flocker package" "" \
    "$(dpkg-query -W -f='${db:Status-Abbrev}${Package}\n' flocker flocker-dev 2>/dev/null | grep -v '^un ' || true)"
fi
e2e_end
