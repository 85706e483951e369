#!/usr/bin/env bash
# The flock against real engines: 3 dockerd, the local registry, flocker-decider and
# flocker-proxy in front, driven by the docker CLI v28, docker-compose, docker-py and
# dockerode. Placement, ownership, merged views, and what happens when the decider or an
# engine dies.
source "$(dirname "$0")/lib.sh"
e2e_begin flock 3

write_hosts 3 zone=z1 zone=z2 zone=z3
start_decider
start_proxy --decider "$DECIDER" --health-interval 0.5 --decider-timeout 0.5
wait_healthy_hosts 3 || true

IMG=$FLOCK_BUSYBOX
union() {  # what the three engines say, sorted
  for i in 1 2 3; do E "$i" "$@"; done | sort
}

echo "== docker run when no host has the image: create -> 404 -> pull -> create, one host"
expect_eq "run --rm echo, image pulled where it is created" "hello" "$(P run --rm "$IMG" echo hello)"
have=$(for i in 1 2 3; do if E "$i" images -q "$IMG" | grep -q .; then echo "e$i"; fi; done | tr "\n" " ")
expect_match "the image was pulled on exactly one host" "^e[123] $" "$have"

echo "== six docker run -d spread 2/2/2"
for n in 1 2 3 4 5 6; do P run -d --name "web$n" --label app=web "$IMG" sleep 600 >/dev/null; done
counts=$(for i in 1 2 3; do E "$i" ps -q --filter label=app=web | wc -l; done | tr '\n' ' ')
expect_eq "each engine runs two (checked on each engine)" "2 2 2 " "$counts"

echo "== merged views equal the union of the engines"
expect_eq "docker ps: the union" "$(union ps -a --format '{{.ID}} {{.Names}} {{.Status}}' | cut -d' ' -f1,2)" \
  "$(P ps -a --format '{{.ID}} {{.Names}} {{.Status}}' | cut -d' ' -f1,2 | sort)"
expect_eq "docker ps -n 2: limit after merging" "2" "$(P ps -n 2 -q | wc -l)"
newest=$(union ps -a --format '{{.CreatedAt}} {{.Names}}' | sort -r | head -1 | awk '{print $NF}')
expect_eq "docker ps: newest first" "$newest" "$(P ps -a --format '{{.Names}}' | head -1)"
expect_eq "docker ps --filter node=e2" "$(E 2 ps -q | sort)" "$(P ps -q --filter node=e2 | sort)"
expect_eq "docker ps shows the host label" "$(E 3 ps --format '{{.Names}}' | sort)" \
  "$(P ps --format '{{.Names}} {{.Label "com.docker.flocker.host"}}' | awk '$2 == "e3" {print $1}' | sort)"
sum() { awk '{s += $1} END {print s}'; }
expect_eq "docker info: containers summed" "$(for i in 1 2 3; do E "$i" info -f '{{.Containers}}'; done | sum)" \
  "$(P info -f '{{.Containers}}')"
expect_eq "docker info: running summed" "$(for i in 1 2 3; do E "$i" info -f '{{.ContainersRunning}}'; done | sum)" \
  "$(P info -f '{{.ContainersRunning}}')"
expect_eq "docker info: NCPU and MemTotal are the largest host's (what one container can get)" \
  "$(for i in 1 2 3; do E "$i" info -f '{{.NCPU}} {{.MemTotal}}'; done | sort -n | tail -1)" "$(P info -f '{{.NCPU}} {{.MemTotal}}')"
expect_match "docker info: the flock's totals in its status" "Total CPUs: $(for i in 1 2 3; do E "$i" info -f '{{.NCPU}}'; done | sum)" \
  "$(P info 2>/dev/null | tr '\n' ' ')"
expect_match "docker info: one status block per host" "e1: tcp://.*e2: tcp://.*e3: tcp://" "$(P info 2>/dev/null | tr '\n' ' ')"
since=$(date +%s)
P run --rm --name evt "$IMG" true
sleep 1
until_ts=$(($(date +%s) + 1))
direct=$(union events --since "$since" --until "$until_ts" --filter container=evt --format '{{.Action}} {{.Actor.ID}}')
expect_eq "docker events --since/--until: the union" "$direct" \
  "$(P events --since "$since" --until "$until_ts" --filter container=evt --format '{{.Action}} {{.Actor.ID}}' | sort)"
expect_match "each event says its host" "^e[123]$" \
  "$(P events --since "$since" --until "$until_ts" --filter container=evt --format '{{index .Actor.Attributes "com.docker.flocker.host"}}' | sort -u)"

echo "== owner routing: by name and by ID prefix, on every host"
for i in 1 2 3; do
  name=$(E "$i" ps --format '{{.Names}}' --filter label=app=web | head -1)
  id=$(E "$i" ps -q --no-trunc --filter name="^${name}$")
  prefix=${id:0:10}
  expect_eq "e$i: inspect by name shows the Node" "e$i" "$(P inspect -f '{{.Node.Name}}' "$name")"
  expect_eq "e$i: inspect by ID prefix" "$id" "$(P inspect -f '{{.Id}}' "$prefix")"
  expect_eq "e$i: exec by prefix" "ok-$i" "$(P exec "$prefix" echo "ok-$i")"
  P exec "$name" sh -c "echo logged-$i > /proc/1/fd/1"
  expect_match "e$i: logs by name" "logged-$i" "$(P logs "$name")"
  check "e$i: stop by prefix" P stop -t 1 "$prefix"
  expect_eq "e$i: stopped on its engine" "exited" "$(E "$i" inspect -f '{{.State.Status}}' "$name")"
  check "e$i: rm by name" P rm "$name"
  expect_eq "e$i: gone from its engine" "" "$(E "$i" ps -aq --filter name="^${name}$")"
done
expect_match "an unknown container: docker's 404" "No such container: nothere" "$(P logs nothere 2>&1 || true)"
direct_id=$(E 2 run -d --name made-direct "$IMG" sleep 600)
expect_eq "a container made directly on an engine is found" "e2" "$(P inspect -f '{{.Node.Name}}' made-direct)"

echo "== names are unique across the flock"
existing=$(P ps --format '{{.Names}}' --filter label=app=web | head -1)
expect_match "a name in use on another host: docker's 409" "Conflict. The container name \"/$existing\" is already in use" \
  "$(P run -d --name "$existing" "$IMG" true 2>&1 || true)"
expect_match "rename to a name in use elsewhere: refused" "Conflict" "$(P rename made-direct "$existing" 2>&1 || true)"
check "rename to a free name" P rename made-direct renamed-direct
expect_eq "the engine sees the new name" "/renamed-direct" "$(E 2 inspect -f '{{.Name}}' "$direct_id")"

echo "== unsupported endpoints"
expect_match "docker swarm init: refused with a clear message" "a flock cannot start or join a swarm" "$(P swarm init 2>&1 || true)"
expect_match "docker service ls: as an engine outside a swarm" "This node is not a swarm manager" "$(P service ls 2>&1 || true)"

echo "== docker-compose, two services"
compose_two_services "$FLOCK_DIR/compose"
expect_eq "down removed the network everywhere" "" \
  "$(for i in 1 2 3; do E "$i" network ls -q --filter name=compose_default; done)"

echo "== docker-py and dockerode"
check "docker-py script" /usr/bin/python3 "$REPO/tests/e2e/dockerpy_smoke.py" "${PROXY/tcp:/http:}" "$IMG"
( cd "$REPO/tests/e2e/node" && [ -d node_modules ] || npm ci --no-audit --no-fund >/dev/null 2>&1 )
check "dockerode script" node "$REPO/tests/e2e/node/dockerode_smoke.js" "${PROXY/tcp:/http:}" "$IMG"

echo "== the decider dies"
kill -9 "$DECIDER_PID"; wait "$DECIDER_PID" 2>/dev/null || true
sleep 0.5
expect_match "docker ps keeps working" "web" "$(P ps --format '{{.Names}}')"
some=$(P ps --format '{{.Names}}' --filter label=app=web | head -1)
expect_eq "exec on an existing container keeps working" "alive" "$(P exec "$some" echo alive)"
expect_match "a create fails with 503 naming the decider" "decider $DECIDER is unavailable" \
  "$(P run -d "$IMG" true 2>&1 || true)"
# A second proxy on the same flock, failing open.
RR=tcp://127.0.0.1:$((FLOCK_PORT_BASE + 41))
"$BUILD/proxy/flocker-proxy" --listen "$RR" --decider "$DECIDER" --decider-failure round-robin \
  --health-interval 0.5 >"$FLOCK_DIR/proxy-rr.log" 2>&1 </dev/null &
E2E_PIDS+=("$!")
start_decider  # the second proxy needs one List to know the flock
sleep 2
kill -9 "$DECIDER_PID"; wait "$DECIDER_PID" 2>/dev/null || true
sleep 0.5
expect_match "--decider-failure=round-robin: a create still works" "^[0-9a-f]{64}$" \
  "$(docker -H "$RR" run -d --name rr-made "$IMG" sleep 600 2>&1)"
start_decider
sleep 1
check "the decider is back: creates work again" P run -d --name after-decider "$IMG" sleep 600

echo "== an engine dies"
victim=$(P inspect -f '{{.Node.Name}}' after-decider)
vi=${victim#e}
victim_container=after-decider
flock_engine_stop "$vi" kill
sleep 1.5
expect_match "docker ps keeps working with the others" "web" "$(P ps --format '{{.Names}}')"
expect_match "docker info shows it unhealthy" "Unhealthy" "$(P info 2>/dev/null)"
victim_addr=$(flock_engine_tcp "$vi")
expect_match "its containers answer 502 naming the host" "host $victim \(${victim_addr//./\\.}\) is unreachable" \
  "$(P logs "$victim_container" 2>&1 || true)"
for n in 1 2 3; do
  P run -d --name "while-down-$n" "$IMG" sleep 600 >/dev/null
done
expect_eq "new work avoids it" "" "$(P ps --filter node="$victim" -q --filter name=while-down)"
expect_match "events keep working" "start" \
  "$(P events --since "$(($(date +%s) - 30))" --until "$(($(date +%s) + 1))" --format '{{.Action}}' | tr '\n' ' ')"
flock_engine_start "$vi" >/dev/null 2>&1
for _ in $(seq 1 40); do
  P info 2>/dev/null | grep -q Unhealthy || break
  sleep 0.25
done
expect_eq "it comes back healthy without a restart" "" "$(P info 2>/dev/null | grep Unhealthy || true)"
expect_eq "its containers are reachable again" "$victim" "$(P inspect -f '{{.Node.Name}}' "$victim_container")"

e2e_end
