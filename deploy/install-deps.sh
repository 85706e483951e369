#!/usr/bin/env bash
# Installs every Debian package flocker's build, tests, benchmarks and local demo need.
# Idempotent: packages already present are left alone; safe to run on every CI start.
set -euo pipefail

PKGS=(
  # build
  build-essential cmake ninja-build pkg-config git
  libgrpc++-dev libgrpc-dev protobuf-compiler protobuf-compiler-grpc libprotobuf-dev
  libboost-dev libboost-program-options-dev
  libspdlog-dev libfmt-dev libsimdjson-dev libssl-dev openssl
  libgtest-dev libgmock-dev googletest
  # end-to-end fixture: real engines, a real registry, real clients
  docker.io docker-registry busybox-static docker-compose python3-docker
  iproute2 iptables util-linux procps curl jq socat netcat-openbsd bsdutils
  # running as a service: the image's CA bundle and strip (deploy/image), systemd-analyze and
  # systemd-socket-activate (deploy/systemd, tests/e2e/95-service.sh)
  ca-certificates binutils systemd
  # SDKs in other languages
  python3-grpcio python3-protobuf python3-grpc-tools python3-venv python3-setuptools python3-wheel dpkg-dev file
  # fuzzing (tests/fuzz/run.sh): clang 14 and its libFuzzer runtime (libclang_rt.fuzzer)
  clang-14 libclang-rt-14-dev
  # benchmarks (bench/run.sh): load, the HAProxy baseline, plots
  wrk haproxy gnuplot-nox
  # metrics (tests/e2e/85-metrics.sh): a real Prometheus scrapes the proxy; promtool lints
  prometheus
  # several proxies coordinated through etcd (deploy/etcd-lib.sh, deploy/coordinated,
  # bench/coordination.sh): a local etcd 3.4 cluster and etcdctl; HAProxy is listed above
  etcd-server etcd-client
)
# Node.js: a machine may already carry a newer node with its own npm (e.g. NodeSource);
# Debian's npm conflicts with that, so only install Debian's when none is there.
command -v node >/dev/null && command -v npm >/dev/null || PKGS+=(nodejs npm)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # --no-install-recommends keeps CI lean; the Debian docker.io unit is not started by us
  # (the test fixture runs its own dockerd instances).
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "deploy/install-deps.sh: all ${#PKGS[@]} packages present"
