#!/usr/bin/env bash
# Builds flocker's container image, flocker:VERSION and flocker:latest, from binaries already
# built, with `docker build` on the engine at DOCKER_HOST. Offline: no image is pulled (see
# the Dockerfile for why it is FROM scratch and what goes in).
#   bash deploy/image/build.sh
#   BUILD_DIR=build-rel DOCKER_HOST=unix:///run/other.sock bash deploy/image/build.sh
# Settings: BUILD_DIR (the binaries' build dir, default build/), DOCKER_HOST (default: the
# docker CLI's), FLOCKER_IMAGE (the name, default flocker), FLOCKER_VERSION (default: the
# build's project version). Prints the image's name and size on the last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$repo/build}
name=${FLOCKER_IMAGE:-flocker}
binaries=("$build/proxy/flocker-proxy" "$build/sdk/decider/flocker-decider")

fail() { echo "deploy/image/build.sh: $*" >&2; exit 1; }

for bin in "${binaries[@]}"; do
  [ -x "$bin" ] || fail "$bin is missing: build first (bash deploy/build.sh, or set BUILD_DIR)"
done
version=${FLOCKER_VERSION:-$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt" 2>/dev/null || true)}
[ -n "$version" ] || version=$(sed -n 's/^project(flocker VERSION \([^ ]*\).*/\1/p' "$repo/CMakeLists.txt")

ctx=$(mktemp -d /tmp/flocker-image.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
root=$ctx/rootfs
mkdir -p "$root/usr/bin" "$root/etc/ssl/certs" "$root/usr/share/doc/flocker" "$root/home/nonroot"
install -d -m 1777 "$root/tmp"
cp "$here/Dockerfile" "$ctx/"

# The programs, without their debug info (it stays in BUILD_DIR, for gdb): most of their size.
for bin in "${binaries[@]}"; do
  strip --strip-unneeded -o "$root/usr/bin/$(basename "$bin")" "$bin"
done

# The shared libraries they load, at the paths ldd resolves them to (the dynamic loader
# searches /lib/x86_64-linux-gnu by default, so no ld.so.cache is needed), and the Debian
# package each comes from.
libraries() {
  ldd "$1" | awk '/not found/ {print "MISSING " $1; next}
                  $2 == "=>" && $3 ~ /^\// {print $3; next}
                  $1 ~ /^\// {print $1}'
}
package_of() {  # merged /usr: dpkg may know a library under /lib or /usr/lib
  local path=$1 real
  real=$(readlink -f "$path")
  dpkg -S "$path" 2>/dev/null || dpkg -S "$real" 2>/dev/null || dpkg -S "/usr$real" 2>/dev/null ||
    dpkg -S "${real#/usr}" 2>/dev/null
}
packages=()
for lib in $(for bin in "${binaries[@]}"; do libraries "$bin"; done | sort -u); do
  [ "$lib" != MISSING ] || fail "a library of the binaries is not found: $(for b in "${binaries[@]}"; do ldd "$b"; done | grep 'not found' | sort -u)"
  pkg=$(package_of "$lib" | head -1 | cut -d: -f1) || true
  [ -n "$pkg" ] || fail "$lib belongs to no Debian package: the image carries only packaged libraries"
  packages+=("$pkg")
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
printf '%s\n' "${packages[@]}" | sort -u | xargs dpkg-query -W -f '${Package} ${Version}\n' \
  >"$root/usr/share/doc/flocker/packages"

# Users: root, and nonroot (65532, as distroless images have it) whom the image runs as.
cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
PASSWD
cat >"$root/etc/group" <<'GROUP'
root:x:0:
nonroot:x:65532:
GROUP
# Names from /etc/hosts (docker writes it) first, then DNS (its resolv.conf).
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
bundle=/etc/ssl/certs/ca-certificates.crt
[ -f "$bundle" ] || fail "$bundle is missing: install Debian's ca-certificates (deploy/install-deps.sh)"
cp "$bundle" "$root/etc/ssl/certs/"

# The legacy builder when buildx is not there (the docker CLI then needs to be told), which is
# all a FROM scratch image with one COPY needs.
docker buildx version >/dev/null 2>&1 || export DOCKER_BUILDKIT=0
docker build -q --build-arg VERSION="$version" -t "$name:$version" -t "$name:latest" "$ctx" >/dev/null 2>"$ctx/build.err" ||
  { cat "$ctx/build.err" >&2; fail "docker build failed"; }
size=$(docker image inspect -f '{{.Size}}' "$name:latest")
echo "deploy/image/build.sh: $name:$version and $name:latest, $((size / 1024 / 1024)) MiB ($size bytes), $(wc -l <"$root/usr/share/doc/flocker/packages") Debian packages' libraries"
