#!/usr/bin/env bash
# Swarm classic's placement language through a flock of 3 real engines with the reference
# decider: constraints by daemon label, by inventory label and by node, in Env and in the
# label form, soft and hard; affinities to a container and to an image; an unsatisfiable
# constraint refused with nothing created; two containers publishing the same host port on
# two hosts; a compose file with a constraint.
source "$(dirname "$0")/lib.sh"
export FLOCK_ENGINE_LABELS_1="disk=hdd" FLOCK_ENGINE_LABELS_2="disk=ssd" FLOCK_ENGINE_LABELS_3="disk=ssd"
e2e_begin placement 3

write_hosts 3 zone=a zone=b zone=c
start_decider
start_proxy --decider "$DECIDER" --health-interval 0.5
wait_healthy_hosts 3 || true
IMG=$FLOCK_BUSYBOX
node_of() { P inspect -f '{{.Node.Name}}' "$1" 2>&1; }
containers() { for i in 1 2 3; do E "$i" ps -aq; done | wc -l; }
P pull -q "$IMG" >/dev/null

echo "== constraints: a daemon label, an inventory label, the node"
on=""
for n in 1 2 3 4; do
  P run -d --name "ssd$n" -e constraint:disk==ssd "$IMG" sleep 600 >/dev/null
  on+="$(node_of "ssd$n") "
done
expect_match "-e constraint:disk==ssd (dockerd --label): only e2 and e3" "^(e[23] ){4}$" "$on"
expect_eq "the engine never sees the rule in Env" "" "$(P inspect -f '{{range .Config.Env}}{{println .}}{{end}}' ssd1 | grep constraint || true)"
P run -d --name zoned -e constraint:zone==c "$IMG" sleep 600 >/dev/null
expect_eq "-e constraint:zone==c (the inventory's label): e3" "e3" "$(node_of zoned)"
on=""
for n in 1 2; do
  P run -d --name "pinned$n" -e 'constraint:node==e1' "$IMG" sleep 600 >/dev/null
  on+="$(node_of "pinned$n") "
done
expect_eq "-e constraint:node==e1: e1, twice" "e1 e1 " "$on"
P run -d --name labelled --label 'com.docker.swarm.constraints=["zone!=a","disk==/^ss/"]' "$IMG" sleep 600 >/dev/null
expect_match "the label form, with != and a regex: e2 or e3" "^e[23]$" "$(node_of labelled)"
expect_match "and the label stays for docker inspect to show" 'zone!=a' \
  "$(P inspect -f '{{index .Config.Labels "com.docker.swarm.constraints"}}' labelled)"
P run -d --name soft -e 'constraint:zone==~nowhere' "$IMG" sleep 600 >/dev/null
expect_match "a soft constraint nothing satisfies is dropped: it runs" "^e[123]$" "$(node_of soft)"

echo "== affinities"
P run -d --name db -e constraint:node==e2 "$IMG" sleep 600 >/dev/null
on=""
for n in 1 2 3; do
  P run -d --name "near$n" -e affinity:container==db "$IMG" sleep 600 >/dev/null
  on+="$(node_of "near$n") "
done
expect_eq "-e affinity:container==db: with db, on e2" "e2 e2 e2 " "$on"
P run -d --name away -e 'affinity:container!=db' -e constraint:disk==ssd "$IMG" sleep 600 >/dev/null
expect_eq "-e affinity:container!=db with disk==ssd: e3" "e3" "$(node_of away)"
E 3 tag "$IMG" special:1
for _ in $(seq 1 20); do P image inspect special:1 >/dev/null 2>&1 && break; sleep 0.1; done
on=""
for n in 1 2; do
  P run -d --name "img$n" -e affinity:image==special:1 "$IMG" sleep 600 >/dev/null
  on+="$(node_of "img$n") "
done
expect_eq "-e affinity:image==special:1: where that image is, e3" "e3 e3 " "$on"

echo "== what cannot be satisfied is refused, and nothing is created"
before=$(containers)
out=$(P run -d -e constraint:zone==z "$IMG" true 2>&1 || true)
expect_match "a hard constraint no host satisfies" \
  "unable to find a host that satisfies the following conditions: constraint:zone==z" "$out"
out=$(P run -d -e 'constraint:zone=a' "$IMG" true 2>&1 || true)
expect_match "a malformed one, quoted" 'invalid constraint "zone=a": one of the operators ==, != is expected' "$out"
expect_eq "nothing was created" "$before" "$(containers)"

echo "== host ports: the same -p on two hosts"
serve() { echo "mkdir -p /www && echo $1 >/www/index.html && exec httpd -f -p 80 -h /www"; }
P run -d --name port1 -p 18080:80 "$IMG" sh -c "$(serve from-port1)" >/dev/null
P run -d --name port2 -p 18080:80 "$IMG" sh -c "$(serve from-port2)" >/dev/null
h1=$(node_of port1)
h2=$(node_of port2)
expect_match "two -p 18080:80 on two different hosts" "^e[123] e[123]$" "$h1 $h2"
[ "$h1" != "$h2" ] && _record 1 "  ($h1 and $h2)" "" || _record 0 "on one host: $h1" ""
expect_eq "both running" "true true" "$(P inspect -f '{{.State.Running}}' port1 port2 | xargs)"
fetch() {
  local out deadline=$((SECONDS + 10))
  until out=$(curl -sf --max-time 2 "$1") || [ $SECONDS -ge $deadline ]; do sleep 0.3; done
  echo "$out"
}
expect_eq "each answers on its host's 18080" "from-port1 from-port2" \
  "$(fetch "http://$(flock_engine_ip "${h1#e}"):18080/") $(fetch "http://$(flock_engine_ip "${h2#e}"):18080/")"

echo "== a compose file with a constraint"
app=$FLOCK_DIR/zoned-app
mkdir -p "$app"
cat >"$app/docker-compose.yml" <<YML
version: "3"
services:
  worker:
    image: $IMG
    command: sleep 600
    environment:
      - "constraint:zone==b"
YML
(
  cd "$app"
  export DOCKER_HOST=$PROXY
  check "docker-compose up -d" timeout 120 docker-compose up -d
  expect_eq "its service runs on the zone-b host, e2" "e2" "$(docker inspect -f '{{.Node.Name}}' "$(docker-compose ps -q worker)")"
  check "docker-compose down" timeout 120 docker-compose down
  echo "$E2E_PASS $E2E_FAIL" >"$app/.counts"
)
read -r E2E_PASS E2E_FAIL <"$app/.counts"

e2e_end
