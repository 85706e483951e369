#!/usr/bin/env bash
# The real-engine fixture itself (deploy/flock-lib.sh), no proxy: three engines that behave
# like three machines on a LAN. Each has its own network namespace and default bridge, pulls
# from the registry, publishes ports on its own address (the same port on two engines at
# once), resolves container names on a user-defined network, and leaves nothing behind.
source "$(dirname "$0")/lib.sh"
if ! flock_netns; then
  echo "SKIP fixture: FLOCK_NETNS=0 (engines share the host's network; nothing to show here)"
  exit 0
fi
e2e_begin fixture 3

IMG=$FLOCK_BUSYBOX
ns_of() { readlink "/proc/$(cat "$(flock_engine_dir "$1")/dockerd.pid")/ns/net"; }
# busybox httpd serving $2 on port 80; `wget -T` segfaults in Debian's busybox 1.35, hence timeout.
serve() { echo "mkdir -p /www && echo $1 >/www/index.html && exec httpd -f -p 80 -h /www"; }
fetch() {  # fetch URL: curl from the host, retried for up to 5 s while the server starts
  local out deadline=$((SECONDS + 5))
  until out=$(curl -sf --max-time 2 "$1") || [ $SECONDS -ge $deadline ]; do sleep 0.2; done
  echo "$out"
}

echo "== three machines: own network namespace, address, name and default bridge"
host_ns=$(readlink /proc/self/ns/net)
nss=$(for i in 1 2 3; do ns_of "$i"; done)
expect_eq "three dockerd, three network namespaces" "3" "$(sort -u <<<"$nss" | wc -l)"
check "none of them is the host's" bash -c "! grep -qx '$host_ns' <<<'$nss'"
for i in 1 2 3; do
  expect_eq "e$i: answers at $(flock_engine_tcp "$i") as flock-e$i" "flock-e$i" "$(E "$i" info -f '{{.Name}}')"
  expect_eq "e$i: its default bridge is its own docker0 on $FLOCK_ENGINE_BIP" "198.19.0.1/24" \
    "$(ip -n "$(flock_netns_name "$i")" -4 -o addr show dev docker0 | awk '{print $4}')"
done
expect_eq "the engines' IDs differ" "3" "$(for i in 1 2 3; do E "$i" info -f '{{.ID}}'; done | sort -u | wc -l)"

echo "== every engine pulls from the registry"
for i in 1 2 3; do
  expect_eq "e$i: no busybox before" "" "$(E "$i" images -q "$IMG")"
  expect_eq "e$i: run --rm pulls it and runs" "pulled-on-e$i" "$(E "$i" run --rm "$IMG" echo "pulled-on-e$i" 2>/dev/null)"
done

echo "== port publishing: the same port on two machines at once"
E 1 run -d --name pub -p 8080:80 "$IMG" sh -c "$(serve served-by-e1)" >/dev/null
E 2 run -d --name pub -p 8080:80 "$IMG" sh -c "$(serve served-by-e2)" >/dev/null
expect_eq "e1's 8080 from the host" "served-by-e1" "$(fetch "http://$(flock_engine_ip 1):8080/")"
expect_eq "e2's 8080 from the host, at the same time" "served-by-e2" "$(fetch "http://$(flock_engine_ip 2):8080/")"
expect_eq "a container on e3 reaches e1's published port over the LAN" "served-by-e1" \
  "$(E 3 run --rm "$IMG" timeout 5 wget -qO- "http://$(flock_engine_ip 1):8080/" 2>&1)"

echo "== a user-defined network: the embedded DNS resolves container names"
E 1 network create fixture-net >/dev/null
E 1 run -d --name server --network fixture-net "$IMG" sh -c "$(serve hello-by-name)" >/dev/null
out=""
for _ in $(seq 1 10); do
  out=$(E 1 run --rm --network fixture-net "$IMG" timeout 5 wget -qO- http://server/ 2>&1) && break
  sleep 0.3
done
expect_eq "wget http://server/ from another container" "hello-by-name" "$out"
expect_match "the name resolves through 127.0.0.11 to the server's address on 198.19.128.0/17" \
  "Server:[[:space:]]+127\.0\.0\.11.*Address:[[:space:]]+198\.19\.(12[89]|1[3-9][0-9]|2[0-5][0-9])\.[0-9]+" \
  "$(E 1 run --rm --network fixture-net "$IMG" nslookup server 2>&1 | tr '\n' ' ')"

echo "== flock_down leaves nothing of this flock"
E 1 rm -f pub server >/dev/null
E 2 rm -f pub >/dev/null
left=$(for i in 1 2 3; do ip netns pids "$(flock_netns_name "$i")"; done; cat "$FLOCK_DIR/registry/"*.pid)
expect_match "before: processes in the namespaces (dockerd, containerd, docker-proxy, relays)" "[0-9]" "$left"
flock_down
expect_eq "no network namespace" "" "$(ip netns list | awk '{print $1}' | grep "^flock$FLOCK_PORT_BASE-" || true)"
expect_eq "no veth or bridge" "" "$(ip -o link show | awk -F': ' '{print $2}' | grep "^fl$FLOCK_PORT_BASE" || true)"
expect_eq "no process that ran in them, nor the registry or its relays" "" \
  "$(for p in $left; do ps -o pid=,stat=,args= -p "$p" | awk '$2 !~ /^Z/'; done)"
expect_eq "no process naming the flock's directory" "" \
  "$(for p in $(pgrep -f "$FLOCK_DIR/"); do ps -o pid=,stat=,args= -p "$p" | awk '$2 !~ /^Z/'; done)"
e2e_end
