#!/usr/bin/env bash
# Deciders in other languages, in charge of a real flock: the same scenario with the node.js
# SDK's and the Python SDK's zone deciders (sdk/*/examples) in place of flocker-decider.
#   - four docker run -d placed by their `zone` label on the host labelled with that zone;
#   - a docker run whose image no host has: the pull lands where the create goes;
#   - the remap adds FLOCKER_ZONE to the container's environment (docker exec env shows it).
source "$(dirname "$0")/lib.sh"
e2e_begin sdk-deciders 3

write_hosts 3 zone=a zone=b zone=c
( cd "$REPO/sdk/node" && [ -d node_modules ] || npm ci --no-audit --no-fund >/dev/null 2>&1 )

IMG=$FLOCK_BUSYBOX

scenario() {  # scenario LANGUAGE COMMAND...
  local lang=$1 n
  shift
  "$@" "$DECIDER" "$FLOCK_DIR/hosts.txt" >"$FLOCK_DIR/decider-$lang.log" 2>&1 </dev/null &
  local decider_pid=$!
  E2E_PIDS+=("$decider_pid")
  start_proxy --decider "$DECIDER" --health-interval 0.5
  wait_healthy_hosts 3 || true
  for i in 1 2 3; do E "$i" rmi -f "$IMG" >/dev/null 2>&1 || true; done

  echo "== $lang: docker run with an image no host has, zone c"
  expect_eq "$lang: run --rm echo" "hi" "$(P run --rm --label zone=c "$IMG" echo hi)"
  have=$(for i in 1 2 3; do if E "$i" images -q "$IMG" | grep -q .; then echo "e$i"; fi; done | tr '\n' ' ')
  expect_eq "$lang: pulled only where it ran (zone c: e3)" "e3 " "$have"

  echo "== $lang: four docker run -d placed by their zone label"
  n=0
  for zone in a b c b; do
    n=$((n + 1))
    P run -d --name "$lang-$n" --label "zone=$zone" "$IMG" sleep 600 >/dev/null
  done
  expect_eq "$lang: zone a on e1" "$lang-1" "$(E 1 ps --format '{{.Names}}' --filter "name=^$lang-")"
  expect_eq "$lang: zone b on e2" "$lang-2 $lang-4" "$(E 2 ps --format '{{.Names}}' --filter "name=^$lang-" | sort | tr '\n' ' ' | sed 's/ $//')"
  expect_eq "$lang: zone c on e3" "$lang-3" "$(E 3 ps --format '{{.Names}}' --filter "name=^$lang-")"
  expect_match "$lang: the remap put FLOCKER_ZONE in the environment" "FLOCKER_ZONE=b" "$(P exec "$lang-2" env)"
  expect_match "$lang: a zone without a host is the decider's error" "no healthy host in zone x" \
    "$(P run -d --label zone=x "$IMG" true 2>&1 || true)"
  P rm -f "$lang-1" "$lang-2" "$lang-3" "$lang-4" >/dev/null
  kill "$PROXY_PID" "$decider_pid" 2>/dev/null || true
  wait "$PROXY_PID" "$decider_pid" 2>/dev/null || true
}

scenario node node "$REPO/sdk/node/examples/zone-decider.js"
export PYTHONPATH=$BUILD/sdk/python/gen:$REPO/sdk/python
scenario python /usr/bin/python3 "$REPO/sdk/python/examples/zone_decider.py"
e2e_end
