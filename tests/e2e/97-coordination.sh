#!/usr/bin/env bash
# Several proxies, one flock: 3 flocker-proxy replicas behind HAProxy, coordinated through a
# real 3-member etcd cluster (--coordination), one reference decider whose hosts live in
# etcd (--hosts-etcd), 3 real engines.
#   - the inventory follows etcd: a put adds a host to every proxy within a second, a delete
#     removes it;
#   - 1,000 creates with 100 colliding names from 32 clients through HAProxy: every name on
#     exactly one engine, every create a 201 or docker's 409;
#   - a proxy SIGKILLed in the middle of creates: its reservations expire within the lease's
#     TTL, and every name it held can be created again;
#   - one etcd member down: nothing changes; two: creates and renames 503 naming etcd while
#     ps, inspect, logs and exec work; both back: creates work again.
# (A second proxy without --coordination is warned about: 22-peer-proxies.sh.)
source "$(dirname "$0")/lib.sh"
e2e_begin coordination 3

IMG=$FLOCK_BUSYBOX
TTL=3  # the proxies' lease, short for the test
start_etcd_cluster 3
write_hosts_etcd 2  # e3 comes later, through etcd
start_decider_etcd
for k in 1 2 3; do
  start_proxy_n "$k" --decider "$DECIDER" --coordination "$ETCD" --coordination-ttl "$TTL" \
    --health-interval 0.5 --name coordinated
done
start_haproxy $((FLOCK_PORT_BASE + 90)) "$PROXY_1" "$PROXY_2" "$PROXY_3"
PROXY=$HAPROXY  # P (the docker CLI) goes through HAProxy from here on
for k in 1 2 3; do
  addr_var=PROXY_$k
  check "proxy $k sees the 2 hosts etcd lists" wait_healthy_hosts_at "${!addr_var#tcp://}" 2
done

# hosts_at ADDR: the host names the proxy's docker info lists.
hosts_at() {
  curl -s "http://${1#tcp://}/info" | jq -r '[.SystemStatus[]? | select(.[0] | test("^ ?e[0-9]+$")) | .[0] | ltrimstr(" ")] | sort | join(",")'
}
# wait_hosts_everywhere WANT: seconds until every proxy lists WANT (fails after 5 s).
wait_hosts_everywhere() {
  local start now k addr_var
  start=$(date +%s.%N)
  for _ in $(seq 1 100); do
    local all=1
    for k in 1 2 3; do
      addr_var=PROXY_$k
      [ "$(hosts_at "${!addr_var}")" = "$1" ] || all=0
    done
    if [ "$all" = 1 ]; then
      now=$(date +%s.%N)
      echo "$now - $start" | bc
      return 0
    fi
    sleep 0.05
  done
  return 1
}

echo "== the inventory in etcd"
expect_eq "every proxy lists e1,e2" "e1,e2" "$(hosts_at "$PROXY_1")"
etcd_ctl put "${HOSTS_PREFIX}e3" "$(flock_engine_tcp 3) zone=b" >/dev/null
took=$(wait_hosts_everywhere "e1,e2,e3") || took=timeout
echo "  etcdctl put ${HOSTS_PREFIX}e3: on every proxy after ${took} s"
expect_match "a put adds e3 to every proxy within a second" '^0?\.[0-9]+$' "$took"
etcd_ctl del "${HOSTS_PREFIX}e3" >/dev/null
took=$(wait_hosts_everywhere "e1,e2") || took=timeout
echo "  etcdctl del: gone from every proxy after ${took} s"
expect_match "a delete removes e3 from every proxy within a second" '^0?\.[0-9]+$' "$took"
etcd_ctl put "${HOSTS_PREFIX}e3" "$(flock_engine_tcp 3) zone=b" >/dev/null
wait_hosts_everywhere "e1,e2,e3" >/dev/null
for k in 1 2 3; do
  addr_var=PROXY_$k
  wait_healthy_hosts_at "${!addr_var#tcp://}" 3 || true
done
label=$(curl -s "http://${PROXY_2#tcp://}/info" | jq -r '.SystemStatus[]? | select(.[0] == "  └ Labels") | .[1]' | grep -c 'zone=b' || true)
expect_eq "e3's label from etcd reaches the proxies" 1 "$label"

echo "== 1,000 creates, 100 colliding names, 32 clients, through HAProxy"
# The image on every engine first, so that the run measures names, not pulls.
for i in 1 2 3; do E "$i" pull -q "$IMG" >/dev/null; done
load_test --target "$HAPROXY" --creates 1000 --names 100 --clients 32 --cleanup \
  --prefix coord- >"$FLOCK_DIR/load.json" || true
summary() { jq -r "$1" "$FLOCK_DIR/load.json"; }
echo "  $(summary '"\(.requests) requests in \(.elapsed_s) s: \(.status_counts)"')"
expect_eq "every create answered 201 or docker's 409" 0 "$(summary .unexpected_count)"
expect_eq "100 creates got a 201" 100 "$(summary '.status_counts["201"] // 0')"
expect_eq "900 got docker's 409" 900 "$(summary '.status_counts["409"] // 0')"
expect_eq "no name exists twice across the engines (duplicates)" 0 "$(summary .engines.duplicates_count)"
expect_eq "every name that got a 201 exists" 0 "$(summary '.engines.missing | length')"
expect_eq "every test container found belongs to a 201" 0 "$(summary '.engines.orphans | length')"
per_engine=$(summary '[.engines.per_engine[]] | map(select(. > 0)) | length')
expect_eq "the containers were spread over the 3 engines" 3 "$per_engine"

echo "== a proxy SIGKILLed in the middle of creates"
names_held() { etcd_ctl get --prefix /flocker/names/ --keys-only | grep -c . || true; }
load_test --target "$PROXY_3" --unique --creates 400 --clients 16 --prefix killed- \
  >"$FLOCK_DIR/killed.json" 2>/dev/null &
load_pid=$!
held=0
for _ in $(seq 1 100); do
  held=$(names_held)
  [ "$held" -gt 0 ] && break
  sleep 0.05
done
etcd_ctl get --prefix /flocker/names/ --keys-only | grep . | sed 's|^/flocker/names/||' >"$FLOCK_DIR/held.txt" || true
kill -9 "$PROXY_PID_3"
killed_at=$(date +%s.%N)
echo "  proxy 3 killed holding $held reservations"
check "proxy 3 held reservations when it was killed" test "$held" -gt 0
gone=""
for _ in $(seq 1 $((TTL * 20 + 40))); do
  if [ "$(names_held)" = 0 ]; then gone=$(echo "$(date +%s.%N) - $killed_at" | bc); break; fi
  sleep 0.05
done
echo "  its reservations were gone after ${gone:-never} s (lease TTL $TTL s)"
check "its reservations expire within the lease TTL (+1 s)" \
  bash -c "[ -n '$gone' ] && [ \$(echo '$gone <= $TTL + 1' | bc) = 1 ]"
wait "$load_pid" 2>/dev/null || true
# No name is lost for good, and none is doubled: each name it held can be created through
# another proxy. Its create may still be running on an engine (dockerd goes on, or rolls it
# back when the client is gone): a 409 then, and a try a moment later settles it. Each name
# ends with exactly one container; two is a failure at once.
bad=0
doubled=0
while read -r n; do
  [ -n "$n" ] || continue
  settled=""
  for _ in $(seq 1 20); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
      -d "{\"Image\":\"$IMG\",\"Cmd\":[\"true\"],\"Labels\":{\"flocker.test\":\"coordination-load\"}}" \
      "http://${PROXY_1#tcp://}/containers/create?name=$n")
    copies=0
    for i in 1 2 3; do
      copies=$((copies + $(E "$i" ps -aq --filter "name=^/$n\$" | grep -c . || true)))
    done
    if [ "$copies" -gt 1 ]; then doubled=$((doubled + 1)); echo "    $n: $copies copies"; break; fi
    if [[ "$code" = 201 || "$code" = 409 ]] && [ "$copies" = 1 ]; then settled=1; break; fi
    sleep 0.5
  done
  if [ -z "$settled" ]; then bad=$((bad + 1)); echo "    $n: $code, $copies copies"; fi
done <"$FLOCK_DIR/held.txt"
expect_eq "no name it held exists twice" 0 "$doubled"
expect_eq "each name it held is created again (201, or 409 for one it made) and exists once" 0 "$bad"
# The 400 run's leftovers, and the re-created ones.
for i in 1 2 3; do
  ids=$(E "$i" ps -aq --filter label=flocker.test=coordination-load)
  [ -z "$ids" ] || E "$i" rm -f $ids >/dev/null
done
# HAProxy takes the dead proxy out; the rest keep serving.
check "docker ps through HAProxy with proxy 3 dead" P ps
start_proxy_n 3 --decider "$DECIDER" --coordination "$ETCD" --coordination-ttl "$TTL" \
  --health-interval 0.5 --name coordinated
wait_healthy_hosts_at "${PROXY_3#tcp://}" 3 || true

echo "== etcd members down"
P run -d --name coord-keeper "$IMG" sh -c 'echo kept-alive; sleep 600' >/dev/null
creates_ok() {  # creates_ok PREFIX N: N named creates through HAProxy, all 201
  local ok=0 i code
  for i in $(seq 1 "$2"); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
      -d "{\"Image\":\"$IMG\",\"Cmd\":[\"true\"]}" "http://${HAPROXY#tcp://}/containers/create?name=$1-$i")
    [ "$code" = 201 ] && ok=$((ok + 1))
  done
  echo "$ok"
}
leader=$(etcd_leader)
etcd_member_stop "$leader"
echo "  member $leader (the leader) stopped"
expect_eq "one member down (the leader): 30 creates through the 3 proxies all 201" 30 "$(creates_ok one-down 30)"
expect_eq "one member down: the proxies' logs say nothing of etcd being unavailable" 0 \
  "$(cat "$FLOCK_DIR"/proxy-*.log | grep -c 'does not answer' || true)"
second=1
[ "$second" = "$leader" ] && second=2
etcd_member_stop "$second"
echo "  member $second stopped: no quorum"
# How soon every create fails closed: the keep-alives stop once the last member steps down
# (its election timeout, 1 s here) and one keep-alive times out (--coordination-timeout, 2 s).
lost_at=$(date +%s.%N)
closed=""
for _ in $(seq 1 100); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -d "{\"Image\":\"$IMG\"}" "http://${HAPROXY#tcp://}/containers/create")
  if [ "$code" = 503 ]; then closed=$(echo "$(date +%s.%N) - $lost_at" | bc); break; fi
  sleep 0.1
done
echo "  unnamed creates fail closed after ${closed:-never} s"
check "no quorum: an unnamed create is a 503 within 10 s (fail closed)" \
  bash -c "[ -n '$closed' ] && [ \$(echo '$closed <= 10' | bc) = 1 ]"
named=$(curl -s -w ' %{http_code}' -X POST -H 'Content-Type: application/json' \
  -d "{\"Image\":\"$IMG\"}" "http://${HAPROXY#tcp://}/containers/create?name=no-quorum")
expect_match "no quorum: a named create is a 503 naming etcd" '"message":"etcd \(.*\) is unavailable.* 503$' "$named"
renamed=$(P rename coord-keeper coord-renamed 2>&1 || true)
expect_match "no quorum: docker rename is refused naming etcd" 'etcd .* is unavailable' "$renamed"
run_out=$(P run --rm "$IMG" true 2>&1 || true)
expect_match "no quorum: docker run says etcd is unavailable" 'etcd .* is unavailable' "$run_out"
info_out=$(P info 2>&1 || true)
expect_match "no quorum: docker info warns that etcd is unavailable" 'WARNING: etcd .* is unavailable' "$info_out"
check "no quorum: docker ps works" P ps
check "no quorum: docker inspect works" P inspect coord-keeper
expect_eq "no quorum: docker logs works" kept-alive "$(P logs coord-keeper 2>&1)"
expect_eq "no quorum: docker exec works" exec-ok "$(P exec coord-keeper echo exec-ok 2>&1)"
expect_eq "no quorum: exec -i streams stdin both ways" streamed \
  "$(echo streamed | P exec -i coord-keeper cat 2>&1)"
etcd_member_start "$leader"
etcd_member_start "$second"
back=""
start=$(date +%s)
for _ in $(seq 1 60); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -d "{\"Image\":\"$IMG\"}" "http://${HAPROXY#tcp://}/containers/create?name=back-$RANDOM")
  if [ "$code" = 201 ]; then back=$(($(date +%s) - start)); break; fi
  sleep 0.5
done
echo "  members restarted: creates work again after ${back:-never} s"
check "members restarted: creates work again" test -n "$back"
expect_eq "members restarted: 30 creates through the 3 proxies all 201" 30 "$(creates_ok after 30)"
check "members restarted: docker rename works" P rename coord-keeper coord-renamed

e2e_end
