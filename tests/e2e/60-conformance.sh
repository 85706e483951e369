#!/usr/bin/env bash
# Conformance: a flock answers like one engine. tests/e2e/conformance.py sends the same
# requests, for every endpoint of docs/endpoints.md in every version spelling and with unknown
# IDs, malformed bodies, wrong methods and trailing slashes, to engine 1 directly and through
# flocker, in single-engine mode (the default policy) and in flock mode (3 engines); status
# codes and error messages must match, but for the differences the script lists with their
# reasons. Then what only a flock can get wrong: ps since/before across hosts (within one
# second too), info's SystemTime and Images, network rm by an ID that is another network's
# name, a client tearing down swarm mode, old API versions.
source "$(dirname "$0")/lib.sh"
e2e_begin conformance 3

write_hosts 3
start_decider
start_proxy --decider "$DECIDER" --health-interval 0.5
wait_healthy_hosts 3 || true
SINGLE=tcp://127.0.0.1:$((FLOCK_PORT_BASE + 41))
"$BUILD/proxy/flocker-proxy" --listen "$SINGLE" --engine "$(flock_engine_tcp 1)" \
  >"$FLOCK_DIR/proxy-single.log" 2>&1 </dev/null &
E2E_PIDS+=("$!")
flock_wait_ping "$SINGLE" 15
IMG=$FLOCK_BUSYBOX
DIRECT=$(flock_engine_tcp 1)

for mode in single flock; do
  target=$PROXY
  [ "$mode" = single ] && target=$SINGLE
  echo "== the same requests, direct and through flocker ($mode mode)"
  out=$(/usr/bin/python3 "$REPO/tests/e2e/conformance.py" --direct "${DIRECT#tcp://}" --proxy "${target#tcp://}" \
    --mode "$mode" --image "$IMG" 2>&1) && ok=1 || ok=0
  { echo "$out" | grep -E "^  (known|DIFF)" || true; } | head -40
  summary=$(tail -1 <<<"$out")
  _record "$ok" "$summary" "$out"
done

echo "== ps --filter since/before name a container on one host: a window of creation times everywhere"
for n in 1 2 3 4; do
  P run -d --name "order$n" "$IMG" sleep 600 >/dev/null
  sleep 1.1  # docker ps lists creation times in seconds
done
hosts=$(for n in 1 2 3 4; do P inspect -f '{{.Node.Name}}' "order$n"; done | sort -u | wc -l)
expect_eq "the four containers are on three hosts" "3" "$hosts"
expect_eq "since=order2: those created after it, on every host" "order4 order3" \
  "$(P ps -a --filter since=order2 --filter name=order --format '{{.Names}}' | xargs)"
expect_eq "before=order3: those created before it, on every host" "order2 order1" \
  "$(P ps -a --filter before=order3 --filter name=order --format '{{.Names}}' | xargs)"
expect_eq "both at once" "order3" \
  "$(P ps -a --filter since=order2 --filter before=order4 --filter name=order --format '{{.Names}}' | xargs)"
expect_eq "with a limit, applied after the window" "order4" \
  "$(P ps -a --filter since=order1 --filter name=order --last 1 --format '{{.Names}}' | xargs)"
# One engine orders by the nanosecond: two hosts within one second (tried until they are).
for try in 1 2 3 4 5; do
  P create --name "same${try}a" -e constraint:node==e1 "$IMG" true >/dev/null || true
  P create --name "same${try}b" -e constraint:node==e2 "$IMG" true >/dev/null || true
  if [ "$(P inspect -f '{{.Created}}' "same${try}a" "same${try}b" | cut -d. -f1 | uniq | wc -l)" = 1 ]; then break; fi
done
expect_eq "A on e1, B on e2 in the same second: ps -a, since=A, before=B" "same${try}b same${try}a|same${try}b|same${try}a" \
  "$(for f in "" "--filter since=same${try}a" "--filter before=same${try}b"; do
    P ps -a --filter name="same$try" $f --format '{{.Names}}' | xargs; done | paste -sd'|')"

echo "== one engine over time: its clock, its image count, network rm by ID"
t1=$(P info -f '{{.SystemTime}}')
sleep 1
t2=$(P info -f '{{.SystemTime}}')
expect_match "info.SystemTime is now: two calls a second apart ($t1, $t2)" '^(0\.[89]|1\.[0-4])[0-9]*$' \
  "$(awk -v a="$(date -d "$t1" +%s.%N)" -v b="$(date -d "$t2" +%s.%N)" 'BEGIN {printf "%.3f", b - a}')"
expect_eq "info.Images: the distinct IDs of images -a (busybox on several hosts counts once)" \
  "$(P images -aq --no-trunc | sort -u | wc -l)" "$(P info -f '{{.Images}}')"
# A network on e2, and one on e1 named with its full ID: dockerd resolves the full ID first.
byid=$(E 2 network create --subnet 198.19.210.0/24 byid)
E 1 network create --subnet 198.19.211.0/24 "$byid" >/dev/null
for _ in $(seq 1 30); do
  [ "$(P network ls --format '{{.Name}}' | grep -cx -e byid -e "$byid")" = 2 ] && break
  sleep 0.1
done
P network rm "$byid" >/dev/null 2>&1 || true
expect_eq "network rm <byid's ID>: byid, not the network named with that ID" "e1:$byid e2:" \
  "e1:$(E 1 network ls --format '{{.Name}}' | grep -x -e byid -e "$byid" | xargs) e2:$(E 2 network ls --format '{{.Name}}' | grep -x -e byid -e "$byid" | xargs)"

echo "== swarm mode, as a client outside a swarm sees it"
expect_match "docker swarm leave: the engine's 503" "This node is not part of a swarm" \
  "$(P swarm leave --force 2>&1 || true)"
expect_match "docker node ls: not a swarm manager" "This node is not a swarm manager" \
  "$(P node ls 2>&1 || true)"
expect_match "docker swarm init: refused, clearly" "a flock cannot start or join a swarm" \
  "$(P swarm init 2>&1 || true)"
# docker-py's own teardown (its integration suite's) leaves any swarm, and accepts the answer
# of an engine outside one as done: with a 501 it raised, and 25 of its tests failed.
expect_eq "docker-py's leave_swarm(force=True) accepts the answer" "True" \
  "$(/usr/bin/python3 -c "
import docker
print(docker.DockerClient(base_url='${PROXY}').api.leave_swarm(force=True))
" 2>&1)"

echo "== API versions"
check "an old client (API 1.24): docker ps" env DOCKER_API_VERSION=1.24 docker -H "$PROXY" ps -a
check "an old client (API 1.24): docker info" env DOCKER_API_VERSION=1.24 docker -H "$PROXY" info
expect_match "a too new API version: the engine's 400" "client version 1.99 is too new" \
  "$(curl -s "http://${PROXY#tcp://}/v1.99/info")"

e2e_end
