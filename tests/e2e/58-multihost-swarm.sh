#!/usr/bin/env bash
# Multi-host networks on engines that form a swarm used only for its networks (as
# deploy/flock-up.sh makes them): a network made without a driver spans the hosts, containers
# on it spread and reach each other by name, compose apps spread; local networks co-locate.
# A mixed flock: engines 1-3 are the swarm, engine 4 is not (nothing on a multi-host network
# goes there); then the conformance suite against engine 4, the flock answering as one
# engine outside a swarm. See tests/e2e/multihost_checks.sh.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/multihost_checks.sh"
e2e_begin multihost-swarm 4
flock_swarm_up 3

write_hosts 4
start_decider
start_proxy --decider "$DECIDER" --health-interval 0.5 --network-pool "$FLOCK_SWARM_POOL"
wait_healthy_hosts 4 || true
multihost_checks swarm 4

echo "== the same requests to engine 4 (outside the swarm) and through the flock"
out=$(/usr/bin/python3 "$REPO/tests/e2e/conformance.py" --direct "$(flock_engine_ip 4):$FLOCK_ENGINE_PORT" \
  --proxy "${PROXY#tcp://}" --mode flock --image "$FLOCK_BUSYBOX" 2>&1) && ok=1 || ok=0
{ echo "$out" | grep -E "^  (known|DIFF)" || true; } | head -40
_record "$ok" "$(tail -1 <<<"$out")" "$out"
e2e_end
