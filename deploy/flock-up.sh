#!/usr/bin/env bash
# Starts everything on this machine: a local flock of real Docker engines, a registry holding
# busybox, the reference decider (flocker-decider) and flocker-proxy in front. Prints the
# DOCKER_HOST to use. Needs root (it runs dockerd).
#   bash deploy/flock-up.sh [--engines N]     start (default 3 engines)
#   bash deploy/flock-up.sh --down            stop everything and remove its state
# Settings: FLOCK_DIR (state, default /tmp/flocker-flock), FLOCK_PORT_BASE (default 23750:
# registry on 127.0.0.1:BASE+50, decider on BASE+20; each engine in its own network namespace
# at tcp://198.18.X.i:2375, X = BASE/100 % 256, see deploy/flock-lib.sh), FLOCK_NETNS=0 (the
# engines on 127.0.0.1:BASE+i in the host's network instead), FLOCKER_LISTEN (default
# tcp://127.0.0.1:2375), BUILD_DIR (default build/), FLOCK_SWARM=0 (engines that are not a
# swarm: no multi-host networks, so a compose app stays on one host).
# The engines form a swarm used only for its networks (see docs/networks.md): a network made
# without a driver spans the hosts, and a compose app spreads over them.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
source "$repo/deploy/flock-lib.sh"
export BUILD_DIR=${BUILD_DIR:-$repo/build}
ENGINES=3
LISTEN=${FLOCKER_LISTEN:-tcp://127.0.0.1:2375}
DECIDER=127.0.0.1:$((FLOCK_PORT_BASE + 20))

stop_all() {
  for f in "$FLOCK_DIR/proxy.pid" "$FLOCK_DIR/decider.pid"; do
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
  flock_down
}

case "${1:-}" in
  --down) stop_all; echo "flocker: stopped"; exit 0 ;;
  --engines) ENGINES=${2:?--engines needs a number} ;;
  "") ;;
  *) echo "usage: $0 [--engines N] | --down" >&2; exit 2 ;;
esac

not_root() {
  echo "flocker: cannot start a local flock: not root (it installs packages and runs dockerd:" \
    "run it as root, or with sudo)" >&2
  exit 1
}
# What is missing first (on a fresh machine that is dockerd itself; install-deps.sh asks sudo
# when not root), then whether a flock can run here.
[ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null || not_root
bash "$repo/deploy/install-deps.sh"
why=$(flock_unavailable)
[ "$why" != "not root" ] || not_root
[ -z "$why" ] || { echo "flocker: cannot start a local flock: $why" >&2; exit 1; }
bash "$repo/deploy/build.sh"
stop_all 2>/dev/null || true
flock_netns && export FLOCK_SWARM=${FLOCK_SWARM:-1}
flock_up "$ENGINES"
pool_args=()
# Multi-host networks made through the proxy take subnets of the swarm's pool (never 10.0.0.0/8).
[ "${FLOCK_SWARM:-0}" = 1 ] && pool_args=(--network-pool "$FLOCK_SWARM_POOL")

# The decider's inventory: engine i is host e<i>, in zone a, b, c, ... in turn.
zones=(a b c d e f g h)
: >"$FLOCK_DIR/hosts.txt"
for i in $(seq 1 "$ENGINES"); do
  echo "$(flock_engine_tcp "$i") e$i zone=${zones[$(((i - 1) % 8))]}" >>"$FLOCK_DIR/hosts.txt"
done
setsid "$BUILD_DIR/sdk/decider/flocker-decider" --listen "$DECIDER" \
  --hosts-file "$FLOCK_DIR/hosts.txt" >"$FLOCK_DIR/decider.log" 2>&1 </dev/null &
echo $! >"$FLOCK_DIR/decider.pid"

setsid "$BUILD_DIR/proxy/flocker-proxy" --listen "$LISTEN" --listen "unix://$FLOCK_DIR/flocker.sock" \
  --decider "$DECIDER" "${pool_args[@]}" >"$FLOCK_DIR/proxy.log" 2>&1 </dev/null &
echo $! >"$FLOCK_DIR/proxy.pid"
flock_wait_ping "$LISTEN" 15 || { echo "flocker-proxy did not start:"; tail "$FLOCK_DIR/proxy.log"; exit 1; }
# Up is when a `docker run` works: once the proxy has the decider's inventory and has found
# every engine healthy (it answers _ping before).
for _ in $(seq 1 75); do
  # (no match yet is not a failure: grep's status must not end the script under pipefail)
  healthy=$(curl -s --max-time 2 --unix-socket "$FLOCK_DIR/flocker.sock" http://flocker/info |
    { grep -o '"Healthy"' || true; } | wc -l)
  [ "$healthy" -lt "$ENGINES" ] || break
  sleep 0.2
done
[ "$healthy" -ge "$ENGINES" ] || echo "flocker: $healthy of $ENGINES engines healthy so far (see $FLOCK_DIR/proxy.log)" >&2

cat <<MSG

flocker is up: $ENGINES engines$([ "${FLOCK_SWARM:-0}" = 1 ] && echo ", sharing a swarm for multi-host networks"), the reference decider on $DECIDER, the registry on $FLOCK_REGISTRY.
  export DOCKER_HOST=$LISTEN
  docker run --rm $FLOCK_BUSYBOX echo hello from the flock
The engines, directly: $(for i in $(seq 1 "$ENGINES"); do printf '%s ' "$(flock_engine_tcp "$i")"; done)
Logs: $FLOCK_DIR/{proxy,decider}.log, $FLOCK_DIR/engine-*/dockerd.log
Stop: bash deploy/flock-up.sh --down
MSG
