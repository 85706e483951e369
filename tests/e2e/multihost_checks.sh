# The multi-host network checks, for a flock whose engines 1-3 share a facility ($1: "swarm"
# or "cluster store"; $2: how many hosts the flock has, 3 or more: the others are outside
# it, a mixed flock, and no container on a multi-host network may go there). Sourced by 58-multihost-swarm.sh and 59-multihost-store.sh after the
# proxy is up (not a test file of its own: its name starts with no digit).
# Traffic is busybox ping (the registry busybox's wget crashes on name lookups).

# The hosts ($.Node.Name) of the given containers, sorted, one line each.
hosts_of() { for c in "$@"; do P inspect -f '{{.Node.Name}}' "$c"; done | sort -u; }

# A container of $2.. on another host than $1's.
on_another_host() {
  local first=$1 home c
  shift
  home=$(P inspect -f '{{.Node.Name}}' "$first")
  for c in "$@"; do
    [ "$(P inspect -f '{{.Node.Name}}' "$c")" != "$home" ] && { echo "$c"; return 0; }
  done
  return 1
}

# Retries a command for up to $1 seconds (a new overlay endpoint takes a moment to be known
# by name on the other hosts).
within() {
  local secs=$1
  shift
  for _ in $(seq 1 "$secs"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  "$@"
}

multihost_checks() {
  local mode=$1 nhosts=$2 scope=swarm IMG=$FLOCK_BUSYBOX api="http://${PROXY#tcp://}/v1.41" id other out i
  [ "$mode" = swarm ] || scope=global
  echo "== the flock finds its multi-host networks from the engines ($mode)"
  expect_match "docker info names the facility and its hosts" "\"Multi-host networks\",\"$mode \\(3 of $nhosts hosts\\)\"" \
    "$(P info -f '{{json .SystemStatus}}')"
  expect_eq "and answers as an engine outside a swarm" "inactive" "$(P info -f '{{.Swarm.LocalNodeState}}')"

  echo "== network create without a driver: one multi-host network"
  out=$(curl -s -XPOST -H 'Content-Type: application/json' -d '{"Name":"appnet","CheckDuplicate":true}' \
    "$api/networks/create")
  id=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("Id",""))' "$out" 2>/dev/null || true)
  expect_match "POST /networks/create {Name} answers its ID" "^[0-9a-z]{25,64}$" "$id"
  expect_eq "an attachable overlay network, $scope in scope" "overlay $scope true" \
    "$(P network inspect appnet -f '{{.Driver}} {{.Scope}} {{.Attachable}}')"
  expect_match "its subnet from the flock's pool (198.18.0.0/15)" "^198\.19\." \
    "$(P network inspect appnet -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}')"
  out=$(curl -s -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
    -d '{"Name":"appnet","CheckDuplicate":true}' "$api/networks/create")
  expect_eq "CheckDuplicate holds across the flock" "409" "$out"
  check "network create -d overlay (the CLI sends a driver)" P network create -d overlay ov2
  expect_eq "network ls lists each once" "1 1" \
    "$(P network ls --format '{{.Name}}' | grep -cx appnet) $(P network ls --format '{{.Name}}' | grep -cx ov2)"
  expect_eq "and not the swarm's own (ingress, docker_gwbridge)" "0" \
    "$(P network ls --format '{{.Name}}' | grep -cx -e ingress -e docker_gwbridge || true)"

  echo "== six containers on it spread over the hosts and reach each other by name"
  for i in 1 2 3 4 5 6; do P run -d --name "mh$i" --network appnet "$IMG" sleep 600 >/dev/null; done
  expect_match "six containers on at least 2 hosts" "^[23]$" "$(hosts_of mh1 mh2 mh3 mh4 mh5 mh6 | wc -l)"
  expect_eq "all on hosts that share the facility (not a mixed flock's others)" "" "$(hosts_of mh1 mh2 mh3 mh4 mh5 mh6 | grep -vx -e e1 -e e2 -e e3 || true)"
  expect_eq "one ID on every host that has it" "$id" \
    "$(for h in $(hosts_of mh1 mh2 mh3 mh4 mh5 mh6); do E "${h#e}" network inspect appnet -f '{{.Id}}'; done | sort -u | xargs)"
  other=$(on_another_host mh1 mh2 mh3 mh4 mh5 mh6 || true)
  check "mh1 ($(hosts_of mh1)) reaches $other ($(hosts_of "$other")) by name" within 10 P exec mh1 ping -c1 -W2 "$other"
  check "and back" within 10 P exec "$other" ping -c1 -W2 mh1
  expect_eq "network inspect lists the containers of every host" "mh1 mh2 mh3 mh4 mh5 mh6" \
    "$(P network inspect appnet -f '{{range .Containers}}{{.Name}} {{end}}' | xargs -n1 | sort | xargs)"

  echo "== connect and disconnect, on the container's host"
  P run -d --name mhloner "$IMG" sleep 600 >/dev/null
  check "network connect appnet mhloner" P network connect appnet mhloner
  check "mhloner reaches mh1 by name" within 10 P exec mhloner ping -c1 -W2 mh1
  check "network disconnect appnet mhloner" P network disconnect appnet mhloner
  expect_eq "inspect: six again" "6" "$(P network inspect appnet -f '{{len .Containers}}')"

  echo "== network rm: the engine's refusal while used, then once"
  out=$(P network rm appnet 2>&1) && _record 0 "network rm refused while used" "$out" ||
    expect_match "network rm refused while used, in the engine's words" "active endpoints|in use" "$out"
  P rm -f mh1 mh2 mh3 mh4 mh5 mh6 mhloner >/dev/null
  check "network rm appnet" P network rm appnet
  expect_eq "gone through the flock at once" "0" "$(P network ls --format '{{.Name}}' | grep -cx appnet || true)"
  gone_everywhere() { for i in 1 2 3; do ! E "$i" network inspect appnet >/dev/null 2>&1 || return 1; done; }
  check "and from every engine (the workers' copies within seconds)" within 10 gone_everywhere
  check "network rm ov2" P network rm ov2

  echo "== a compose project spreads, and its services reach each other by service name"
  local dir=$FLOCK_DIR/mhapp
  mkdir -p "$dir"
  cat >"$dir/docker-compose.yml" <<YML
version: "3"
services:
  srv:
    image: $IMG
    command: sleep 600
  cli:
    image: $IMG
    command: sleep 600
YML
  (cd "$dir" && DOCKER_HOST=$PROXY timeout 180 docker-compose up -d --scale srv=3 --scale cli=3) >"$FLOCK_DIR/compose.log" 2>&1 &&
    _record 1 "docker-compose up -d --scale srv=3 --scale cli=3" ||
    _record 0 "docker-compose up -d --scale srv=3 --scale cli=3" "$(tail -20 "$FLOCK_DIR/compose.log")"
  local all clis
  all=$(P ps -q --filter label=com.docker.compose.project=mhapp | xargs)
  clis=$(P ps -q --filter label=com.docker.compose.project=mhapp --filter label=com.docker.compose.service=cli | xargs)
  expect_eq "six containers" "6" "$(wc -w <<<"$all")"
  # shellcheck disable=SC2086
  expect_match "over at least 2 hosts" "^[23]$" "$(hosts_of $all | wc -l)"
  # shellcheck disable=SC2086
  expect_eq "of those sharing the facility" "" "$(hosts_of $all | grep -vx -e e1 -e e2 -e e3 || true)"
  expect_eq "the project's network spans hosts" "overlay $scope" \
    "$(P network inspect mhapp_default -f '{{.Driver}} {{.Scope}}')"
  for c in $clis; do
    check "cli on $(hosts_of "$c") reaches srv by service name" within 10 P exec "$c" ping -c1 -W2 srv
  done
  echo "== network prune: an unused multi-host network goes, a used one stays"
  P network create -d overlay pruneme >/dev/null
  out=$(P network prune -f 2>&1 | xargs)
  expect_match "prune names pruneme" "pruneme" "$out"
  expect_eq "and keeps the project's network, in use" "0 1" \
    "$(P network ls --format '{{.Name}}' | grep -cx pruneme || true) $(P network ls --format '{{.Name}}' | grep -cx mhapp_default || true)"
  (cd "$dir" && DOCKER_HOST=$PROXY timeout 180 docker-compose down) >"$FLOCK_DIR/compose-down.log" 2>&1 &&
    _record 1 "docker-compose down" || _record 0 "docker-compose down" "$(grep -v '\.\.\.' "$FLOCK_DIR/compose-down.log" | tail -8)"
  expect_eq "down removed the network" "0" "$(P network ls --format '{{.Name}}' | grep -cx mhapp_default || true)"

  echo "== local networks still co-locate"
  check "network create -d bridge (local)" P network create -d bridge --subnet 198.19.230.0/24 localnet
  for i in 1 2 3; do P run -d --name "lc$i" --network localnet "$IMG" sleep 600 >/dev/null; done
  expect_eq "three containers on a bridge network: one host" "1" "$(hosts_of lc1 lc2 lc3 | wc -l)"
  expect_eq "driver bridge, scope local" "bridge local" "$(P network inspect localnet -f '{{.Driver}} {{.Scope}}')"
  P rm -f lc1 lc2 lc3 >/dev/null
  check "network rm localnet" P network rm localnet

  echo "== no network of the flock took dockerd's default 10.0.0.0/8"
  out=$(for i in 1 2 3; do
    E "$i" network inspect $(E "$i" network ls -q) -f '{{.Name}} {{range .IPAM.Config}}{{.Subnet}} {{end}}'
  done | grep -E ' 10\.' || true)
  expect_eq "no subnet in 10.0.0.0/8 on any engine" "" "$out"
}
