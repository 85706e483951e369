#!/usr/bin/env bash
# Two flocker-proxy processes on one flock (one flocker-decider), neither with --coordination:
# container names are then unique only within each proxy, and each proxy says so, once in its
# log and in `docker info` (the CLI's "WARNING: ..." lines) while the other is seen. Alone, a
# proxy says nothing.
source "$(dirname "$0")/lib.sh"
e2e_begin peers 1

PROXY2=tcp://127.0.0.1:$((FLOCK_PORT_BASE + 41))
write_hosts 1
start_decider
start_proxy --decider "$DECIDER" --name blue --inventory-refresh 1 --health-interval 0.5
wait_healthy_hosts 1 || true

# info_warnings ADDRESS: docker info's WARNING lines about other proxies.
info_warnings() { docker -H "$1" info 2>&1 | grep 'WARNING: another flocker-proxy' || true; }

echo "== one proxy: no warning"
sleep 2.5  # a few List answers in, each naming this proxy alone
expect_eq "docker info: no other proxy" "" "$(info_warnings "$PROXY")"
expect_eq "log: no other proxy" "0" "$(grep -c 'another flocker-proxy' "$FLOCK_DIR/proxy.log" || true)"

echo "== a second proxy on the same decider, without --coordination"
"$BUILD/proxy/flocker-proxy" --listen "$PROXY2" --decider "$DECIDER" --name green \
  --inventory-refresh 1 --health-interval 0.5 >"$FLOCK_DIR/proxy2.log" 2>&1 </dev/null &
E2E_PIDS+=($!)
flock_wait_ping "$PROXY2" 15 || { echo "second proxy did not start:"; tail "$FLOCK_DIR/proxy2.log"; }
for _ in $(seq 1 25); do
  [ -n "$(info_warnings "$PROXY")" ] && [ -n "$(info_warnings "$PROXY2")" ] && break
  sleep 0.2
done
expect_match "docker info through blue names green" \
  '^WARNING: another flocker-proxy \(green, instance [0-9a-f]{16}\) serves this flock without --coordination: names are unique only per proxy$' \
  "$(info_warnings "$PROXY")"
expect_match "docker info through green names blue" '\(blue, instance [0-9a-f]{16}\)' "$(info_warnings "$PROXY2")"
sleep 2  # more List answers: still one warning each, logged once
expect_eq "docker info: one line per peer" "1" "$(info_warnings "$PROXY" | wc -l)"
expect_eq "blue's log warns once" "1" \
  "$(grep -c "another flocker-proxy (name green, instance .*) uses this flock's decider without --coordination" "$FLOCK_DIR/proxy.log" || true)"
expect_eq "green's log warns once" "1" "$(grep -c 'another flocker-proxy (name blue' "$FLOCK_DIR/proxy2.log" || true)"
e2e_end
