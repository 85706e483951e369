#!/usr/bin/env bash
# One Docker for objects that refer to each other, against 3 real engines in their own
# network namespaces, the reference decider (round-robin) and the docker CLI v28 and
# docker-compose: every flow below lands where what it needs is, 10 times in a row (plain
# round-robin would put 2 of 3 elsewhere):
#   --volumes-from, --network/--pid/--ipc container:X, --link; a named volume's data; an
#   image built, committed or loaded on one host run on another; a user network's containers
#   reaching each other by name; a compose app whose client reaches its server by service
#   name; `docker inspect` of a missing name; conflicts and cross-host connects refused.
source "$(dirname "$0")/lib.sh"
e2e_begin relations 3

write_hosts 3
start_decider
start_proxy --decider "$DECIDER" --health-interval 0.5
wait_healthy_hosts 3 || true

IMG=$FLOCK_BUSYBOX
node_of() { P inspect -f '{{.Node.Name}}' "$1" 2>&1; }
# A busybox httpd serving $1 as /f on port 8080 (and $1 in /dev/shm/x for the IPC check).
serve() { echo "mkdir -p /www && echo $1 >/www/f && echo $1 >/dev/shm/x && exec httpd -f -p 8080 -h /www"; }
# Tries `P ARGS...` for up to 10 s (a server just started), prints its last output.
retry() {
  local out deadline=$((SECONDS + 10))
  until out=$(P "$@" 2>&1) || [ $SECONDS -ge $deadline ]; do sleep 0.3; done
  echo "$out"
}
# Records one check for 10 rounds: "ok" when every round gave what it should.
ROUNDS=10
tally() {  # tally DESC FAILURES (the failed rounds' details, empty when all passed)
  if [ -z "$2" ]; then _record 1 "$1 ($ROUNDS of $ROUNDS)"; else _record 0 "$1" "$2"; fi
}

P pull -q "$IMG" >/dev/null  # on every host (the reference decider pulls everywhere)

echo "== a container shares with another: it lands on the other's host"
fails_vf="" fails_net="" fails_pid="" fails_ipc="" fails_link="" hosts_seen=""
for i in $(seq 1 $ROUNDS); do
  # --volumes-from: the data is in the other container's anonymous volume.
  P run --name "data$i" -v /data "$IMG" sh -c "echo from-data$i >/data/f" >/dev/null 2>&1
  out=$(P run --rm --volumes-from "data$i" "$IMG" cat /data/f 2>&1 || true)
  [ "$out" = "from-data$i" ] || fails_vf+="round $i: $out"$'\n'
  # A server, then containers that join its network, PID and IPC namespaces, or link to it.
  P run -d --name "srv$i" --ipc shareable "$IMG" sh -c "$(serve srv$i)" >/dev/null
  hosts_seen+="$(node_of "srv$i") "
  out=$(retry run --rm --network "container:srv$i" "$IMG" wget -qO- http://127.0.0.1:8080/f)
  [ "$out" = "srv$i" ] || fails_net+="round $i: $out"$'\n'
  out=$(P run --rm --pid "container:srv$i" "$IMG" sh -c 'ps -o comm | grep -c httpd' 2>&1 || true)
  [ "$out" = 1 ] || fails_pid+="round $i: $out"$'\n'
  out=$(P run --rm --ipc "container:srv$i" "$IMG" cat /dev/shm/x 2>&1 || true)
  [ "$out" = "srv$i" ] || fails_ipc+="round $i: $out"$'\n'
  out=$(retry run --rm --link "srv$i:web" "$IMG" wget -qO- http://web:8080/f)
  [ "$out" = "srv$i" ] || fails_link+="round $i: $out"$'\n'
done
tally "--volumes-from reads the other container's volume" "$fails_vf"
tally "--network container:X shares X's loopback" "$fails_net"
tally "--pid container:X sees X's processes" "$fails_pid"
tally "--ipc container:X shares X's /dev/shm" "$fails_ipc"
tally "--link X:alias reaches X by its alias" "$fails_link"
expect_eq "the servers were spread over the three hosts" "e1 e2 e3" "$(tr ' ' '\n' <<<"$hosts_seen" | grep . | sort -u | xargs)"

echo "== a named volume's data is where the volume is"
fails_vol="" fails_new="" fails_ls=""
for i in $(seq 1 $ROUNDS); do
  P volume create "vol$i" >/dev/null
  P run --rm -v "vol$i:/d" "$IMG" sh -c "echo in-vol$i >/d/f" >/dev/null 2>&1
  out=$(P run --rm -v "vol$i:/d" "$IMG" cat /d/f 2>&1 || true)
  [ "$out" = "in-vol$i" ] || fails_vol+="round $i: $out"$'\n'
  # A volume that does not exist yet: docker makes it where the first container goes.
  P run --rm -v "fresh$i:/d" "$IMG" sh -c "echo in-fresh$i >/d/f" >/dev/null 2>&1
  out=$(P run --rm --mount "type=volume,source=fresh$i,target=/d" "$IMG" cat /d/f 2>&1 || true)
  [ "$out" = "in-fresh$i" ] || fails_new+="round $i: $out"$'\n'
  n=$(P volume ls -q | grep -cx "vol$i" || true)
  [ "$n" = 1 ] || fails_ls+="round $i: vol$i listed $n times"$'\n'
done
tally "a container mounting a named volume sees what the last one wrote" "$fails_vol"
tally "-v NEW:/path then --mount source=NEW: the same data" "$fails_new"
tally "docker volume ls shows each volume once" "$fails_ls"
expect_eq "a local volume exists on one host only" "1" \
  "$(for i in 1 2 3; do E "$i" volume ls -q; done | grep -cx vol1)"
expect_match "docker volume inspect answers from its host" '"Name": "vol1"' "$(P volume inspect vol1 2>&1)"
check "docker volume rm" P volume rm vol1
expect_eq "and it is gone" "0" "$(for i in 1 2 3; do E "$i" volume ls -q; done | grep -cx vol1 || true)"

echo "== an image made on one host runs on any: built, committed, loaded"
ctx=$FLOCK_DIR/ctx
mkdir -p "$ctx"
fails_build="" fails_commit="" fails_load=""
for i in $(seq 1 $ROUNDS); do
  printf 'FROM %s\nRUN echo built-%s >/msg\nCMD ["cat", "/msg"]\n' "$IMG" "$i" >"$ctx/Dockerfile"
  DOCKER_BUILDKIT=0 P build -q -t "app$i" "$ctx" >/dev/null 2>&1
  out=$(P run --rm "app$i" 2>&1 || true)
  [ "$out" = "built-$i" ] || fails_build+="round $i: $out"$'\n'
  P commit "srv$i" "snap$i" >/dev/null
  out=$(P run --rm "snap$i" cat /www/f 2>&1 || true)
  [ "$out" = "srv$i" ] || fails_commit+="round $i: $out"$'\n'
done
tally "docker build -t X, then docker run X" "$fails_build"
tally "docker commit C X, then docker run X" "$fails_commit"
E 1 tag "$IMG" loaded:1
E 1 save loaded:1 >"$FLOCK_DIR/loaded.tar"
E 1 rmi loaded:1 >/dev/null
for i in $(seq 1 $ROUNDS); do
  P load -q -i "$FLOCK_DIR/loaded.tar" >/dev/null 2>&1
  out=$(P run --rm loaded:1 echo "loaded-$i" 2>&1 || true)
  [ "$out" = "loaded-$i" ] || fails_load+="round $i: $out"$'\n'
  P rmi -f loaded:1 >/dev/null 2>&1
done
tally "docker load, then docker run" "$fails_load"
# A built image run on each of the three hosts in turn.
printf 'FROM %s\nRUN echo everywhere >/msg\nCMD ["cat", "/msg"]\n' "$IMG" >"$ctx/Dockerfile"
DOCKER_BUILDKIT=0 P build -q -t everywhere "$ctx" >/dev/null 2>&1
built_on=$(for i in 1 2 3; do E "$i" images -q everywhere | grep -q . && echo "e$i"; done | xargs)
ran_on="" outs=""
for j in 1 2 3; do
  P run --name "ev$j" everywhere >/dev/null 2>&1
  ran_on+="$(node_of "ev$j") "
  outs+="$(P logs "ev$j" 2>&1) "
done
expect_match "the image was built on one host" "^e[123]$" "$built_on"
expect_eq "then run on each of the three in turn" "e1 e2 e3" "$(xargs -n1 <<<"$ran_on" | sort | xargs)"
expect_eq "with its content on each" "everywhere everywhere everywhere " "$outs"
expect_match "the proxy copied it (its log)" "copied image everywhere from e[123] to e[123]" \
  "$(grep 'copied image everywhere' "$FLOCK_DIR/proxy.log" | head -1)"

echo "== a user network: its containers share a host and reach each other by name"
fails_dns="" fails_one=""
for i in $(seq 1 $ROUNDS); do
  P network create "net$i" >/dev/null
  P run -d --name "named$i" --network "net$i" "$IMG" sh -c "$(serve named$i)" >/dev/null
  out=$(retry run --rm --network "net$i" "$IMG" wget -qO- "http://named$i:8080/f")
  [ "$out" = "named$i" ] || fails_dns+="round $i: $out"$'\n'
  n=$(for e in 1 2 3; do E "$e" network ls -q --filter "name=^net$i\$"; done | grep -c . || true)
  [ "$n" = 1 ] || fails_one+="round $i: on $n hosts"$'\n'
done
tally "a container reaches another on its network by name" "$fails_dns"
tally "the network exists on one host" "$fails_one"

echo "== a compose app: the client reaches the server by service name"
app=$FLOCK_DIR/shop
mkdir -p "$app"
cat >"$app/docker-compose.yml" <<YML
version: "3"
services:
  server:
    image: $IMG
    command: sh -c "$(serve from-the-server)"
  client:
    image: $IMG
    command: sh -c "until wget -qO- http://server:8080/f; do sleep 1; done; exec sleep 600"
YML
(
  cd "$app"
  export DOCKER_HOST=$PROXY
  check "docker-compose up -d" timeout 120 docker-compose up -d
  out=""
  for _ in $(seq 1 30); do
    out=$(docker-compose logs --no-color client 2>&1)
    grep -q from-the-server <<<"$out" && break
    sleep 1
  done
  expect_match "the client got the server's answer by service name" "from-the-server" "$out"
  expect_eq "both services on one host" "1" \
    "$(for c in $(docker-compose ps -q); do docker inspect -f '{{.Node.Name}}' "$c"; done | sort -u | wc -l)"
  check "docker-compose down" timeout 120 docker-compose down
  echo "$E2E_PASS $E2E_FAIL" >"$app/.counts"
)
read -r E2E_PASS E2E_FAIL <"$app/.counts"

echo "== what cannot be placed is refused, clearly, and nothing is created"
P run -d --name lonely "$IMG" sleep 600 >/dev/null
lonely_on=$(node_of lonely)
other=e1
[ "$lonely_on" = e1 ] && other=e2
E "${other#e}" network create elsewhere >/dev/null
# In use there (an unused network would follow the container instead: 70-placement).
E "${other#e}" create --name holds-elsewhere --network elsewhere "$IMG" true >/dev/null
for _ in $(seq 1 20); do P network inspect elsewhere >/dev/null 2>&1 && break; sleep 0.1; done
before=$(for i in 1 2 3; do E "$i" ps -aq; done | wc -l)
out=$(P run --rm --volumes-from lonely --network elsewhere "$IMG" true 2>&1 || true)
expect_match "volumes-from one host and a network on another: 409 naming both" \
  "container \"lonely\" \(HostConfig.VolumesFrom\) is on host $lonely_on.*network \"elsewhere\" \(HostConfig.NetworkMode\) is on host $other" "$out"
expect_eq "nothing was created" "$before" "$(for i in 1 2 3; do E "$i" ps -aq; done | wc -l)"
out=$(P network connect elsewhere lonely 2>&1 || true)
expect_match "network connect across hosts: refused" \
  "container lonely is on host $lonely_on, and network elsewhere is on host $other" "$out"

echo "== docker inspect of a name nothing has"
fails_insp=""
for i in $(seq 1 $ROUNDS); do
  out=$(P inspect "no-such-name$i" 2>&1 || true)
  [[ "$out" == *"No such object: no-such-name$i"* ]] || fails_insp+="round $i: $out"$'\n'
done
tally "docker's own 'No such object'" "$fails_insp"

e2e_end
