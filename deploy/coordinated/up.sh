#!/usr/bin/env bash
# Several flocker-proxy processes serving one flock, coordinated through etcd, behind HAProxy,
# all on this machine (deploy/coordinated/README.md):
#   a local flock of real engines (deploy/flock-lib.sh) and its registry;
#   a 3-member etcd cluster (deploy/etcd-lib.sh), holding the inventory under /flocker/hosts/;
#   the reference decider, reading its hosts from etcd (--hosts-etcd, a watch);
#   3 flocker-proxy with --coordination etcd://... (names are reserved in etcd);
#   HAProxy (mode tcp, round-robin, /_ping health checks) in front: one DOCKER_HOST.
#
#   bash deploy/coordinated/up.sh [--engines N] [--proxies N]   start (default 3 and 3)
#   bash deploy/coordinated/up.sh --down                        stop everything, remove its state
# Needs root (it runs dockerd). Settings: FLOCK_DIR (default /tmp/flocker-coordinated),
# FLOCK_PORT_BASE (default 24500; everything on 127.0.0.1:BASE+k, see below), BUILD_DIR
# (default build/), FLOCKER_NO_BUILD=1 (use the binaries in BUILD_DIR as they are).
# Ports (BASE+): 20 decider, 41.. proxies, 50 registry, 60 decider metrics, 61.. proxies'
# metrics, 72/74/76 etcd clients (73/75/77 peers), 90 HAProxy, 91 its stats page.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
export FLOCK_DIR=${FLOCK_DIR:-/tmp/flocker-coordinated}
export FLOCK_PORT_BASE=${FLOCK_PORT_BASE:-24500}
source "$repo/deploy/flock-lib.sh"
source "$repo/deploy/etcd-lib.sh"
source "$here/haproxy-lib.sh"
export BUILD_DIR=${BUILD_DIR:-$repo/build}
ENGINES=3
PROXIES=3
MEMBERS=3
HOSTS_PREFIX=/flocker/hosts/
port() { echo $((FLOCK_PORT_BASE + $1)); }
DECIDER=127.0.0.1:$(port 20)
LISTEN=127.0.0.1:$(port 90)
FLOCKER_ETCD_DIR=$FLOCK_DIR/etcd

stop_all() {
  local f
  haproxy_stop "$FLOCK_DIR"
  for f in "$FLOCK_DIR"/proxy-*.pid "$FLOCK_DIR/decider.pid"; do
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
  etcd_cluster_down
  flock_down
}

while [ $# -gt 0 ]; do
  case $1 in
    --down) stop_all; echo "flocker (coordinated): stopped"; exit 0 ;;
    --engines) ENGINES=${2:?--engines needs a number}; shift 2 ;;
    --proxies) PROXIES=${2:?--proxies needs a number}; shift 2 ;;
    *) echo "usage: $0 [--engines N] [--proxies N] | --down" >&2; exit 2 ;;
  esac
done
((PROXIES >= 1 && PROXIES <= 9)) || { echo "--proxies: 1 to 9" >&2; exit 2; }
((ENGINES >= 1 && ENGINES <= 19)) || { echo "--engines: 1 to 19" >&2; exit 2; }

[ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null ||
  { echo "flocker: not root (it runs dockerd): run it as root, or with sudo" >&2; exit 1; }
bash "$repo/deploy/install-deps.sh"
why=$(flock_unavailable)
[ -z "$why" ] || { echo "flocker: cannot start a local flock: $why" >&2; exit 1; }
[ "${FLOCKER_NO_BUILD:-0}" = 1 ] || bash "$repo/deploy/build.sh"
PROXY_BIN=$BUILD_DIR/proxy/flocker-proxy
DECIDER_BIN=$BUILD_DIR/sdk/decider/flocker-decider
"$PROXY_BIN" --help | grep -q -- --coordination ||
  { echo "flocker: $PROXY_BIN has no --coordination (an older build)" >&2; exit 1; }
"$DECIDER_BIN" --help | grep -q -- --hosts-etcd ||
  { echo "flocker: $DECIDER_BIN has no --hosts-etcd (an older build)" >&2; exit 1; }

stop_all 2>/dev/null || true
flock_up "$ENGINES"

etcd_cluster_start "$FLOCKER_ETCD_DIR" "$(port 70)" "$MEMBERS"
ETCD=$(etcd_url)

# The inventory, in etcd: engine i is host e<i>, in zone a, b, c, ... in turn. The decider
# watches the prefix: a put or delete there changes the flock within a second.
zones=(a b c d e f g h)
for i in $(seq 1 "$ENGINES"); do
  etcd_ctl put "${HOSTS_PREFIX}e$i" "$(flock_engine_tcp "$i") zone=${zones[$(((i - 1) % 8))]}" >/dev/null
done

setsid "$DECIDER_BIN" --listen "$DECIDER" --hosts-etcd "$HOSTS_PREFIX" --etcd "$ETCD" \
  --metrics-listen "tcp://127.0.0.1:$(port 60)" >"$FLOCK_DIR/decider.log" 2>&1 </dev/null &
echo $! >"$FLOCK_DIR/decider.pid"

backends=()
for k in $(seq 1 "$PROXIES"); do
  setsid "$PROXY_BIN" --listen "tcp://127.0.0.1:$(port $((40 + k)))" \
    --listen "unix://$FLOCK_DIR/proxy-$k.sock" --decider "$DECIDER" --coordination "$ETCD" \
    --metrics-listen "tcp://127.0.0.1:$(port $((60 + k)))" \
    >"$FLOCK_DIR/proxy-$k.log" 2>&1 </dev/null &
  echo $! >"$FLOCK_DIR/proxy-$k.pid"
  backends+=("127.0.0.1:$(port $((40 + k)))")
done
for k in $(seq 1 "$PROXIES"); do
  flock_wait_ping "tcp://${backends[$((k - 1))]}" 15 ||
    { echo "flocker-proxy $k did not start:"; tail "$FLOCK_DIR/proxy-$k.log"; exit 1; }
done
# Up is when a `docker run` works through every proxy: each has the decider's inventory and
# has found every engine healthy.
for k in $(seq 1 "$PROXIES"); do
  for _ in $(seq 1 75); do
    healthy=$(curl -s --max-time 2 "http://${backends[$((k - 1))]}/info" | { grep -o '"Healthy"' || true; } | wc -l)
    [ "$healthy" -lt "$ENGINES" ] || break
    sleep 0.2
  done
  [ "$healthy" -ge "$ENGINES" ] ||
    echo "flocker: proxy $k sees $healthy of $ENGINES engines healthy so far (see $FLOCK_DIR/proxy-$k.log)" >&2
done

haproxy_render "$FLOCK_DIR/haproxy.cfg" "$LISTEN" "127.0.0.1:$(port 91)" "${backends[@]}"
haproxy_start "$FLOCK_DIR/haproxy.cfg" "$FLOCK_DIR"

cat <<MSG

flocker is up: $ENGINES engines, $PROXIES proxies coordinated through a $MEMBERS-member etcd, behind HAProxy.
  export DOCKER_HOST=tcp://$LISTEN
  docker run --rm $FLOCK_BUSYBOX echo hello from the flock
The proxies: ${backends[*]}   HAProxy's stats: http://127.0.0.1:$(port 91)/
etcd: $ETCD
  etcdctl --endpoints=$(etcd_endpoints) get --prefix /flocker/
  etcdctl --endpoints=$(etcd_endpoints) put ${HOSTS_PREFIX}eN 'tcp://ADDRESS:2375 zone=b'   # add a host
Logs: $FLOCK_DIR/{proxy-*,decider,haproxy}.log, $FLOCKER_ETCD_DIR/m*.log
Stop: bash deploy/coordinated/up.sh --down
MSG
