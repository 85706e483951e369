#!/usr/bin/env bash
# One engine over time (issue 25), against 3 real engines, the reference decider (round-robin,
# so consecutive runs land on different hosts) and the docker CLI v28:
#   a tag names one image across the flock, the newest (build, commit, tag; inspect and
#   `docker images`); info's SystemTime is now, and an events window taken from it holds what
#   just happened; ps since/before across hosts within one second; info.Images counts distinct
#   image IDs; a local network keeps the ID create gave, moves only when it must, and follows
#   a container on `network connect`; build --cache-from with the cache on one host; link
#   aliases in ps Names through a rename; network rm NAME where NAME is another network's ID.
source "$(dirname "$0")/lib.sh"
e2e_begin over-time 3
export DOCKER_BUILDKIT=0  # the legacy builder (BuildKit through a flock: a later issue)

write_hosts 3
start_decider
start_proxy --decider "$DECIDER" --health-interval 0.5
wait_healthy_hosts 3 || true

IMG=$FLOCK_BUSYBOX
node_of() { P inspect -f '{{.Node.Name}}' "$1" 2>&1 || true; }
# The hosts (e<i>) whose engine has a network named $1, e.g. "e2".
net_hosts() {
  local i out=""
  for i in 1 2 3; do
    if E "$i" network ls -q --filter "name=^$1\$" | grep -q .; then out+="e$i "; fi
  done
  echo "${out% }"
}
# A host other than $1.
other_than() { if [ "$1" = e1 ]; then echo e2; else echo e1; fi; }
# Polls `CMD...` for up to 3 s (the engines' events reach the proxy) until it prints WANT,
# then records the check with its last output.
eventually() {
  local desc=$1 want=$2 out deadline=$((SECONDS + 3))
  shift 2
  until { out=$("$@" 2>&1) && [ "$out" = "$want" ]; } || [ $SECONDS -ge $deadline ]; do sleep 0.2; done
  expect_eq "$desc" "$want" "$out"
}
# Seconds from RFC 3339 time $1 to $2, to the millisecond.
secs_between() {
  awk -v a="$(date -d "$1" +%s.%N)" -v b="$(date -d "$2" +%s.%N)" 'BEGIN {printf "%.3f", b - a}'
}

P pull -q "$IMG" >/dev/null  # on every host (the reference decider pulls everywhere)
ctx=$FLOCK_DIR/ctx
mkdir -p "$ctx"

echo "== a rebuilt tag: every run, on every host, runs the newest build"
for v in v1 v2 v3; do
  printf 'FROM %s\nCMD ["echo", "%s"]\n' "$IMG" "$v" >"$ctx/Dockerfile"
  APP_ID=$(P build -q -t app "$ctx" 2>/dev/null || true)  # stderr: the legacy builder's notice
  outs=""
  for _ in 1 2 3; do outs+="$(P run --rm app 2>&1 || true) "; done
  expect_eq "build $v, then docker run --rm app three times (three hosts)" "$v $v $v " "$outs"
done
expect_match "the last build printed its image ID" "^sha256:[0-9a-f]{64}$" "$APP_ID"
expect_eq "docker image inspect app: the newest build" "$APP_ID" "$(P image inspect -f '{{.Id}}' app 2>&1)"
engine_tags() {  # per engine: app's image ID, or "-" where app is not
  local i out=""
  for i in 1 2 3; do out+="e$i:$(E "$i" images -q --no-trunc app | head -1 | grep . || echo -) "; done
  echo "$out"
}
want=""
for i in 1 2 3; do want+="e$i:($APP_ID|-) "; done
deadline=$((SECONDS + 3))
until [[ "$(engine_tags)" =~ ^$want$ ]] || [ $SECONDS -ge $deadline ]; do sleep 0.2; done
expect_match "on every engine directly, app is the newest build or absent" "^$want$" "$(engine_tags)"

echo "== docker commit to an existing tag: the committed image on every host"
P run --name marker -e constraint:node==e2 "$IMG" sh -c 'echo committed >/marker' >/dev/null 2>&1 || true
COMMIT_ID=$(P commit marker app 2>&1 || true)
expect_match "docker commit marker app" "^sha256:[0-9a-f]{64}$" "$COMMIT_ID"
expect_eq "docker image inspect app: the commit" "$COMMIT_ID" "$(P image inspect -f '{{.Id}}' app 2>&1)"
outs=""
for n in 1 2 3; do outs+="e$n:$(P run --rm -e "constraint:node==e$n" app cat /marker 2>&1 | head -1 || true) "; done
expect_eq "docker run app cat /marker on e1, e2, e3" "e1:committed e2:committed e3:committed " "$outs"

echo "== docker tag moves a tag: the tagged image on every host"
printf 'FROM %s\nRUN echo retagged >/marker\n' "$IMG" >"$ctx/Dockerfile"
RETAG_ID=$(P build -q -t retag "$ctx" 2>/dev/null || true)
expect_eq "retag was built on one host" "1" \
  "$(for i in 1 2 3; do E "$i" images -q retag; done | grep -c . || true)"
check "docker tag retag app" P tag retag app
expect_eq "docker image inspect app: retag's image" "$RETAG_ID" "$(P image inspect -f '{{.Id}}' app 2>&1)"
outs="" ids=""
for n in 1 2 3; do
  outs+="e$n:$(P run --name "tagged$n" -e "constraint:node==e$n" app cat /marker 2>&1 | head -1 || true) "
  ids+="e$n:$(P inspect -f '{{.Image}}' "tagged$n" 2>&1 | head -1) "
done
expect_eq "docker run app on e1, e2, e3: created from retag's image" \
  "e1:$RETAG_ID e2:$RETAG_ID e3:$RETAG_ID " "$ids"
expect_eq "docker run app cat /marker on e1, e2, e3" "e1:retagged e2:retagged e3:retagged " "$outs"

echo "== docker images: each tag once, on the newest image"
eventually "docker images: app:latest once, on retag's image" "app:latest $RETAG_ID" \
  sh -c "docker -H '$PROXY' images --no-trunc --format '{{.Repository}}:{{.Tag}} {{.ID}}' | grep '^app:latest ' || true"

echo "== info.Images: distinct image IDs, as docker images -a lists them"
# "INFO DISTINCT", polled until they agree (a tag brought in line may still be settling).
images_counts() { echo "$(P info -f '{{.Images}}') $(P images -aq --no-trunc | sort -u | wc -l)"; }
expect_match "busybox is on three hosts" "^3$" \
  "$(for i in 1 2 3; do E "$i" images -q "$IMG"; done | grep -c . || true)"
deadline=$((SECONDS + 3))
until read -r n_info n_ids <<<"$(images_counts)" && [ "$n_info" = "$n_ids" ] || [ $SECONDS -ge $deadline ]; do
  sleep 0.2
done
expect_eq "docker info Images = distinct IDs of docker images -a" "$n_ids" "$n_info"

echo "== info.SystemTime is now"
t1=$(P info -f '{{.SystemTime}}' || true)
sleep 1
t2=$(P info -f '{{.SystemTime}}' || true)
d=$(secs_between "$t1" "$t2")
expect_eq "two SystemTimes a second apart differ" "differ" "$([ "$t1" != "$t2" ] && echo differ || echo "both $t1")"
expect_match "by about a second (0.8 to 1.5 s): $t1 -> $t2" "^yes$" \
  "$(awk -v d="$d" 'BEGIN {print (d >= 0.8 && d <= 1.5) ? "yes" : "no: " d " s"}')"

echo "== events --since/--until from SystemTime: the window holds what just happened"
P run -d --name evc "$IMG" sleep 600 >/dev/null || true
t0=$(P info -f '{{.SystemTime}}' || true)
P pause evc >/dev/null || true
P unpause evc >/dev/null || true
t1=$(P info -f '{{.SystemTime}}' || true)
expect_eq "events --since t0 --until t1 (SystemTimes around pause, unpause)" "pause unpause" \
  "$(P events --since "$t0" --until "$t1" --filter container=evc --format '{{.Action}}' 2>&1 | xargs)"

echo "== ps since/before across hosts, within one second"
pre=""
for try in 1 2 3 4 5; do
  p="sec$try-"
  P create --name "${p}a" -e constraint:node==e1 "$IMG" true >/dev/null || true
  P create --name "${p}b" -e constraint:node==e2 "$IMG" true >/dev/null || true
  P create --name "${p}c" -e constraint:node==e1 "$IMG" true >/dev/null || true
  if [ "$(P inspect -f '{{.Created}}' "${p}a" "${p}b" "${p}c" 2>/dev/null | cut -d. -f1 | sort -u | wc -l)" = 1 ]; then
    pre=$p
    break
  fi
done
expect_match "A (e1), B (e2), C (e1) created within one second" "^sec" "$pre"
psn() { P ps -a --filter name="$pre" "$@" --format '{{.Names}}' 2>&1 | xargs; }
expect_eq "docker ps -a: newest first" "${pre}c ${pre}b ${pre}a" "$(psn)"
expect_eq "--filter since=A: C B" "${pre}c ${pre}b" "$(psn --filter "since=${pre}a")"
expect_eq "--filter since=B: C" "${pre}c" "$(psn --filter "since=${pre}b")"
expect_eq "--filter before=C: B A" "${pre}b ${pre}a" "$(psn --filter "before=${pre}c")"
expect_eq "--filter before=B: A" "${pre}a" "$(psn --filter "before=${pre}b")"

echo "== a local network keeps the ID create gave"
ID0=$(P network create --subnet 198.19.200.0/24 keepnet 2>&1 || true)
keep_on=$(net_hosts keepnet)
expect_match "network create keepnet: on one host" "^e[123]$" "$keep_on"
P run -d --name k1 --network keepnet "$IMG" sleep 600 >/dev/null 2>&1 || true
expect_eq "its first container, unconstrained, runs where it is" "$keep_on" "$(node_of k1)"
expect_eq "network inspect keepnet: the ID create gave" "$ID0" "$(P network inspect -f '{{.Id}}' keepnet 2>&1)"
ID1=$(P network create --subnet 198.19.201.0/24 movenet 2>&1 || true)
move_from=$(net_hosts movenet)
move_to=$(other_than "$move_from")
check "docker run --network movenet -e constraint:node==$move_to (movenet on $move_from)" \
  P run -d --name m1 --network movenet -e "constraint:node==$move_to" "$IMG" sleep 600
expect_eq "it runs on $move_to, and movenet moved there" "$move_to $move_to" "$(node_of m1) $(net_hosts movenet)"
check "network inspect <the ID create gave>" P network inspect "$ID1"
check "network disconnect <the ID create gave> m1" P network disconnect "$ID1" m1
P rm -f m1 >/dev/null 2>&1 || true
check "network rm <the ID create gave>" P network rm "$ID1"
expect_eq "movenet is gone from every engine" "" "$(net_hosts movenet)"

echo "== network connect of an unused local network: it follows the container"
P network create --subnet 198.19.202.0/24 connet >/dev/null || true
con_from=$(net_hosts connet)
con_to=$(other_than "$con_from")
P run -d --name cn1 -e "constraint:node==$con_to" "$IMG" sleep 600 >/dev/null || true
check "network connect connet cn1 (connet on $con_from, cn1 on $con_to)" P network connect connet cn1
expect_match "cn1 is on connet" '"connet"' "$(P inspect -f '{{json .NetworkSettings.Networks}}' cn1 2>&1)"
expect_eq "cn1 still runs on $con_to, and connet is there" "$con_to $con_to" "$(node_of cn1) $(net_hosts connet)"

echo "== build --cache-from with the cache on one host"
E 1 pull -q "$IMG" >/dev/null
printf 'FROM %s\nRUN echo a >/a\nRUN echo b >/b\nRUN echo c >/c\n' "$IMG" >"$ctx/Dockerfile"
E 1 build -q -t cachebase "$ctx" >/dev/null 2>&1
eventually "cachebase (built directly on e1) is known to the flock" "ok" \
  sh -c "docker -H '$PROXY' image inspect cachebase >/dev/null && echo ok"
cached=""
for _ in 1 2 3; do
  cached+="$(P build --cache-from cachebase -t cached "$ctx" 2>&1 | grep -c 'Using cache' || true) "
done
expect_eq "three builds --cache-from cachebase: 3 of 3 RUN steps cached each time" "3 3 3 " "$cached"

echo "== link aliases in ps Names, through a rename"
P run -d --name lkdb "$IMG" sleep 600 >/dev/null || true
P run -d --name lkweb --link lkdb:db "$IMG" sleep 600 >/dev/null || true
lk_on=$(node_of lkdb)
names() {  # docker ps --no-trunc Names of lkdb, sorted, via $1 (P, or E <i>)
  "$@" ps --no-trunc --filter name=lkdb --format '{{.Names}}' 2>&1 | tr ',' '\n' | sort | xargs
}
expect_eq "the engine lists the alias (premise)" "lkdb lkweb/db" "$(names E "${lk_on#e}")"
expect_eq "ps --no-trunc Names: as the engine lists them" "$(names E "${lk_on#e}")" "$(names P)"
P rename lkweb lkweb2 || true
expect_eq "after rename lkweb lkweb2: the engine (premise)" "lkdb lkweb2/db" "$(names E "${lk_on#e}")"
eventually "after the rename: as the engine lists them" "$(names E "${lk_on#e}")" names P

echo "== network rm NAME where NAME is another network's full ID: by ID first, as dockerd does"
# Both ways round (the flock must not go by the order of its hosts): rmA on e1 and a network
# named with rmA's ID on e2, then rmB on e2 and one named with rmB's ID on e1.
IDA=$(E 1 network create --subnet 198.19.203.0/24 rmA)
E 2 network create --subnet 198.19.204.0/24 "$IDA" >/dev/null
IDB=$(E 2 network create --subnet 198.19.205.0/24 rmB)
E 1 network create --subnet 198.19.206.0/24 "$IDB" >/dev/null
eventually "network ls shows the four" "4" \
  sh -c "docker -H '$PROXY' network ls --format '{{.Name}}' | grep -cx -e rmA -e rmB -e '$IDA' -e '$IDB'"
expect_eq "network inspect <rmA's ID>, <rmB's ID>: rmA rmB" "rmA rmB" \
  "$(P network inspect -f '{{.Name}}' "$IDA" "$IDB" 2>&1 | xargs)"
named() {  # what engine $1 has of the networks named $2 and $3
  E "$1" network ls --format '{{.Name}}' | grep -x -e "$2" -e "$3" | sort | xargs
}
check "docker network rm <rmA's ID>" P network rm "$IDA"
expect_eq "rmA is gone from e1; the network named with its ID stays on e2" "e1: e2:$IDA" \
  "e1:$(named 1 rmA "$IDA") e2:$(named 2 rmA "$IDA")"
check "docker network rm <rmB's ID>" P network rm "$IDB"
expect_eq "rmB is gone from e2; the network named with its ID stays on e1" "e1:$IDB e2:" \
  "e1:$(named 1 rmB "$IDB") e2:$(named 2 rmB "$IDB")"

e2e_end
