# Functions to run a local flock of real Docker engines and a registry on one machine.
# Sourced by deploy/flock-up.sh and the end-to-end tests. Needs root.
#
# Each engine is its own dockerd (Debian docker.io), started under `unshare --mount --uts`
# with its own /etc/docker (so its own key.json and engine ID) and hostname (its Name), and
# (by default) in its own network namespace, like a machine of its own on a LAN:
#
#   host  fl<BASE>h 198.18.X.254/24 ----.        X = (FLOCK_PORT_BASE / 100) % 256
#   netns flock<BASE>-lan: bridge br0 --+-- e<i> == eth0 198.18.X.<i>/24 in netns flock<BASE>-e<i>
#   engine i in flock<BASE>-e<i>: lo up; dockerd API on tcp://198.18.X.<i>:2375 and
#     unix://$FLOCK_DIR/engine-<i>/docker.sock; its own docker0 (--bip 198.19.0.1/24), user
#     networks from 198.19.128.0/17, --iptables=true (port publishing, the embedded DNS).
#
# Only 198.18.0.0/15 (RFC 2544, benchmarking) is used: 198.18.0.0/16 for the per-flock links,
# 198.19.0.0/16 inside every engine (separate namespaces, like separate machines). No default
# route: an engine reaches its LAN and its own loopback, nothing else.
# FLOCK_NETNS=0 keeps the old layout: every engine in the host's network namespace on
# tcp://127.0.0.1:$((FLOCK_PORT_BASE+i)), --bridge=none --iptables=false (bench/ uses it).
# FLOCK_ENGINE_ARGS, when set, is added to the dockerd command line (e.g. --tlsverify ...).
# FLOCK_ENGINE_LABELS_<i>, when set, are engine i's daemon labels ("disk=ssd rack=r1").
#
# The registry (Debian docker-registry) listens on 127.0.0.1:$((FLOCK_PORT_BASE+50)) on the host
# and holds a busybox image built from Debian's busybox-static: $FLOCK_REGISTRY/busybox:latest.
# With network namespaces, the engines reach it at that same address on their own loopback:
#   netns: socat TCP-LISTEN:127.0.0.1:PORT -> UNIX $FLOCK_DIR/registry.sock
#   host:  socat UNIX-LISTEN:$FLOCK_DIR/registry.sock -> TCP 127.0.0.1:PORT (the registry)
# (a unix socket on the shared filesystem crosses network namespaces), so the image name is
# the same everywhere and docker treats it as an insecure (loopback) registry without flags.

FLOCK_DIR=${FLOCK_DIR:-/tmp/flocker-flock}
FLOCK_PORT_BASE=${FLOCK_PORT_BASE:-23750}
FLOCK_REGISTRY=127.0.0.1:$((FLOCK_PORT_BASE + 50))
FLOCK_BUSYBOX=$FLOCK_REGISTRY/busybox:latest
# The flock's LAN: 198.18.X.0/24, X from the port base, so that flocks whose port bases fall
# in different hundreds (e.g. the e2e tests' 26000 + k*100) get different LANs.
FLOCK_LINK_NET=198.18.$(((FLOCK_PORT_BASE / 100) % 256))
FLOCK_ENGINE_BIP=198.19.0.1/24
FLOCK_ENGINE_POOL=198.19.128.0/17
FLOCK_ENGINE_PORT=2375

flock_log() { echo "[flock] $*" >&2; }

# True when engines get network namespaces of their own (the default; FLOCK_NETNS=0: not).
flock_netns() { [ "${FLOCK_NETNS:-1}" != 0 ]; }

# Why this machine cannot run the real-engine fixture, or nothing.
flock_unavailable() {
  [ "$(id -u)" -eq 0 ] || { echo "not root"; return; }
  command -v dockerd >/dev/null || { echo "dockerd is not installed"; return; }
  command -v docker-registry >/dev/null || { echo "docker-registry is not installed"; return; }
  command -v unshare >/dev/null || { echo "unshare is not installed"; return; }
  flock_netns || return 0
  command -v ip >/dev/null || { echo "ip (iproute2) is not installed"; return; }
  command -v socat >/dev/null || { echo "socat is not installed"; return; }
  command -v iptables >/dev/null || { echo "iptables is not installed"; return; }
}

flock_engine_dir() { echo "$FLOCK_DIR/engine-$1"; }
flock_engine_sock() { echo "unix://$(flock_engine_dir "$1")/docker.sock"; }
flock_engine_ip() {
  if flock_netns; then echo "$FLOCK_LINK_NET.$1"; else echo 127.0.0.1; fi
}
flock_engine_tcp() {
  if flock_netns; then
    echo "tcp://$FLOCK_LINK_NET.$1:$FLOCK_ENGINE_PORT"
  else
    echo "tcp://127.0.0.1:$((FLOCK_PORT_BASE + $1))"
  fi
}
# Names. Interfaces on the host stay within 15 characters: fl + port base + h.
flock_netns_name() { echo "flock$FLOCK_PORT_BASE-e$1"; }
flock_lan_name() { echo "flock$FLOCK_PORT_BASE-lan"; }
flock_host_veth() { echo "fl${FLOCK_PORT_BASE}h"; }

# Waits up to $2 seconds (default 60) for a docker API to answer /_ping at $1 (tcp:// or unix://).
flock_wait_ping() {
  local addr=$1 deadline=$((SECONDS + ${2:-60}))
  while [ $SECONDS -lt $deadline ]; do
    case $addr in
      unix://*) curl -sf --max-time 2 --unix-socket "${addr#unix://}" http://engine/_ping >/dev/null 2>&1 && return 0 ;;
      tcp://*) curl -sf --max-time 2 "http://${addr#tcp://}/_ping" >/dev/null 2>&1 && return 0 ;;
    esac
    sleep 0.2
  done
  return 1
}

# The flock's LAN: a namespace holding only a bridge, br0. The host joins it with a veth,
# fl<BASE>h at 198.18.X.254/24, each engine with its eth0. Being a namespace of its own, the
# LAN's traffic between engines never meets the host's firewall (a host running Docker drops
# bridged traffic in FORWARD). Idempotent.
flock_lan_up() {
  local lan hv
  lan=$(flock_lan_name)
  hv=$(flock_host_veth)
  ip -n "$lan" link show br0 >/dev/null 2>&1 && ip link show "$hv" >/dev/null 2>&1 && return 0
  flock_lan_down
  ip netns add "$lan" || return 1
  flock_netns_sysctl "$lan"
  ip netns exec "$lan" sysctl -qw net.bridge.bridge-nf-call-iptables=0 2>/dev/null || true
  ip -n "$lan" link add br0 type bridge &&
    ip -n "$lan" link set br0 up &&
    ip link add "$hv" type veth peer name host netns "$lan" || return 1
  sysctl -qw "net.ipv6.conf.$hv.disable_ipv6=1" 2>/dev/null || true  # no link-local either
  ip addr add "$FLOCK_LINK_NET.254/24" dev "$hv" &&
    ip link set "$hv" up &&
    ip -n "$lan" link set host master br0 up
}

flock_lan_down() {
  ip link del "$(flock_host_veth)" 2>/dev/null || true
  ip netns del "$(flock_lan_name)" 2>/dev/null || true
}

# IPv4 only in namespace $1 (and whatever is made in it later): no IPv6 link-local addresses.
flock_netns_sysctl() {
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
    >/dev/null 2>&1 || true
}

# Engine $1's "machine": its network namespace, lo up, eth0 at 198.18.X.$1 on the flock's LAN
# (its other end: e$1 on the LAN's bridge). Idempotent: kept across engine restarts, so a
# restarted engine has the same address.
flock_engine_net_up() {
  local i=$1 ns lan
  ns=$(flock_netns_name "$i")
  lan=$(flock_lan_name)
  if ip -n "$ns" -4 -o addr show dev eth0 2>/dev/null | grep -q " $FLOCK_LINK_NET.$i/24 " &&
    ip -n "$lan" link show "e$i" >/dev/null 2>&1; then
    return 0
  fi
  flock_engine_net_down "$i"
  flock_lan_up || return 1
  ip netns add "$ns" || return 1
  flock_netns_sysctl "$ns"
  ip -n "$lan" link add "e$i" type veth peer name eth0 netns "$ns" &&
    ip -n "$lan" link set "e$i" master br0 up &&
    ip -n "$ns" link set lo up &&
    ip -n "$ns" addr add "$FLOCK_LINK_NET.$i/24" dev eth0 &&
    ip -n "$ns" link set eth0 up
}

# Kills every process in network namespace $1 (by pid), if it exists.
flock_netns_kill() {
  local pids
  ip netns list 2>/dev/null | awk '{print $1}' | grep -qx -- "$1" || return 0
  for _ in 1 2 3 4 5; do
    pids=$(ip netns pids "$1" 2>/dev/null || true)
    [ -n "$pids" ] || return 0
    kill -KILL $pids 2>/dev/null || true
    sleep 0.1
  done
}

flock_engine_net_down() {
  local ns
  ns=$(flock_netns_name "$1")
  flock_netns_kill "$ns"
  ip -n "$(flock_lan_name)" link del "e$1" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
}

# In engine $1's namespace: 127.0.0.1:<registry port> relayed to the host's registry.
flock_engine_relay_start() {
  local d pid
  d=$(flock_engine_dir "$1")
  pid=$(cat "$d/registry-relay.pid" 2>/dev/null || true)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && return 0
  setsid nsenter "--net=/run/netns/$(flock_netns_name "$1")" socat \
    "TCP-LISTEN:${FLOCK_REGISTRY#*:},bind=127.0.0.1,fork,reuseaddr" \
    "UNIX-CONNECT:$FLOCK_DIR/registry.sock" >"$d/registry-relay.log" 2>&1 </dev/null &
  echo $! >"$d/registry-relay.pid"
  disown $! 2>/dev/null || true
}

flock_engine_start() {
  local i=$1 d listen net_args wrap=() tls=""
  d=$(flock_engine_dir "$i")
  mkdir -p "$d/data" "$d/exec" "$d/etc-docker" /etc/docker
  local labels_var="FLOCK_ENGINE_LABELS_$i" labels="" label
  for label in ${!labels_var:-}; do labels+=" --label $label"; done
  if flock_netns; then
    flock_engine_net_up "$i" || { flock_log "engine $i: its network namespace could not be made"; return 1; }
    flock_engine_relay_start "$i"
    # nsenter, not `ip netns exec`: that one remounts /sys, hiding the cgroup mounts dockerd needs.
    wrap=(nsenter "--net=/run/netns/$(flock_netns_name "$i")")
    listen="tcp://$FLOCK_LINK_NET.$i:$FLOCK_ENGINE_PORT"
    # Plain TCP on a non-loopback address: dockerd 20.10 sleeps 15 s at startup to show a
    # deprecation warning, unless TLS is turned off explicitly.
    [[ " ${FLOCK_ENGINE_ARGS:-} " == *" --tls"* ]] || tls=--tls=false
    net_args="--bip $FLOCK_ENGINE_BIP --default-address-pool base=$FLOCK_ENGINE_POOL,size=24 $tls"
  else
    listen="tcp://127.0.0.1:$((FLOCK_PORT_BASE + i))"
    net_args="--iptables=false --ip-masq=false --bridge=none"
  fi
  cat >"$d/run.sh" <<RUN
set -e
mount --bind "$d/etc-docker" /etc/docker
hostname flock-e$i
exec dockerd --data-root "$d/data" --exec-root "$d/exec" --pidfile "$d/dockerd.pid" \\
  -H "unix://$d/docker.sock" -H "$listen" \\
  $net_args --storage-driver=vfs \\
  --containerd-namespace "flock-e$i" --containerd-plugins-namespace "flock-e$i-plugins" \\
  --log-level warn ${FLOCK_ENGINE_ARGS:-} $labels
RUN
  setsid "${wrap[@]}" unshare --mount --uts bash "$d/run.sh" >"$d/dockerd.log" 2>&1 </dev/null &
  local pid=$! deadline=$((SECONDS + 60))
  echo $pid >"$d/unshare.pid"
  disown $pid 2>/dev/null || true  # its end is not this shell's business (no "Killed" notices)
  until flock_wait_ping "unix://$d/docker.sock" 1; do
    if ! kill -0 $pid 2>/dev/null || [ $SECONDS -ge $deadline ]; then
      flock_log "engine $i did not start; its log:"
      tail -20 "$d/dockerd.log" >&2
      return 1
    fi
  done
  flock_log "engine $i (flock-e$i) up at $listen"
}

# Stops engine $1; with "kill" as $2, SIGKILLs it (a crash) instead of a clean stop. Its
# network namespace stays (a restart gets the same address); what ran in it is killed.
flock_engine_stop() {
  local d pid sig=TERM shim
  d=$(flock_engine_dir "$1")
  [ "${2:-}" = kill ] && sig=KILL
  pid=$(cat "$d/dockerd.pid" 2>/dev/null || true)
  [ -n "$pid" ] && kill -$sig "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  # Whatever a crash left of this engine (its containerd, shims): their command lines name
  # its directory, which no other flock shares. The containers' first processes are the
  # shims' children: killed first, so that no container outlives its engine's shim.
  for shim in $(pgrep -f "containerd-shim.*$d/" 2>/dev/null || true); do
    pkill -KILL -P "$shim" 2>/dev/null || true
  done
  pkill -KILL -f "$d/" 2>/dev/null || true
  # And whatever else ran in its namespace (docker-proxy, the registry relay).
  flock_netns && flock_netns_kill "$(flock_netns_name "$1")"
  # The killed are orphans: until init reaps them they are zombies, which dockerd takes for
  # alive when it reads their pid files (a restart would wait for a containerd that is gone).
  rm -f "$d/dockerd.pid" "$d/exec/containerd/containerd.pid"
}

flock_registry_start() {
  local d=$FLOCK_DIR/registry
  mkdir -p "$d/data"
  cat >"$d/config.yml" <<CONF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $d/data
  delete:
    enabled: true
http:
  addr: $FLOCK_REGISTRY
CONF
  setsid docker-registry serve "$d/config.yml" >"$d/registry.log" 2>&1 </dev/null &
  echo $! >"$d/registry.pid"
  disown $! 2>/dev/null || true
  if flock_netns; then  # the engines' way in: a unix socket (see the top of this file)
    rm -f "$FLOCK_DIR/registry.sock"
    setsid socat "UNIX-LISTEN:$FLOCK_DIR/registry.sock,fork" "TCP:$FLOCK_REGISTRY" \
      >"$d/relay.log" 2>&1 </dev/null &
    echo $! >"$d/relay.pid"
    disown $! 2>/dev/null || true
  fi
  local deadline=$((SECONDS + 30))
  until curl -sf "http://$FLOCK_REGISTRY/v2/" >/dev/null 2>&1 &&
    { ! flock_netns || curl -sf --unix-socket "$FLOCK_DIR/registry.sock" http://registry/v2/ >/dev/null 2>&1; }; do
    [ $SECONDS -lt $deadline ] || { flock_log "registry did not start"; tail "$d"/*.log >&2; return 1; }
    sleep 0.2
  done
  flock_log "registry up at $FLOCK_REGISTRY"
}

# Builds busybox from Debian's busybox-static into the registry, through engine $1 (which is
# left without the image, so that a later `docker run` must pull).
flock_seed_busybox() {
  local engine=$1 root=$FLOCK_DIR/busybox-root
  rm -rf "$root" && mkdir -p "$root/bin" "$root/tmp" "$root/etc"
  cp /bin/busybox "$root/bin/busybox"
  for tool in $("$root/bin/busybox" --list); do
    [ "$tool" = busybox ] || ln -sf busybox "$root/bin/$tool"
  done
  echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
  local engine_host
  engine_host=$(flock_engine_sock "$engine")
  tar -C "$root" -c . | docker -H "$engine_host" import \
    --change 'CMD ["sh"]' --change 'ENV PATH=/bin' - "$FLOCK_BUSYBOX" >/dev/null || return 1
  docker -H "$engine_host" push -q "$FLOCK_BUSYBOX" >/dev/null || return 1
  docker -H "$engine_host" rmi "$FLOCK_BUSYBOX" >/dev/null || return 1
  flock_log "seeded $FLOCK_BUSYBOX"
}

# Makes engines 1..$1 a swarm, used only for its networks: engine 1 its manager, the others
# workers, all speaking on the flock's LAN. Overlay networks made by the swarm without a
# subnet take one from $FLOCK_SWARM_POOL (inside 198.18.0.0/15; dockerd's own default would
# be 10.0.0.0/8), and so does its routing mesh (ingress). Idempotent. Needs network
# namespaces (a swarm node needs an address the others reach).
FLOCK_SWARM_POOL=198.19.64.0/18
flock_swarm_up() {
  local n=$1 i token manager
  flock_netns || { flock_log "a swarm needs FLOCK_NETNS=1"; return 1; }
  manager=$(flock_engine_sock 1)
  if [ "$(docker -H "$manager" info -f '{{.Swarm.LocalNodeState}}' 2>/dev/null)" != active ]; then
    docker -H "$manager" swarm init --advertise-addr "$FLOCK_LINK_NET.1" --listen-addr "$FLOCK_LINK_NET.1:2377" \
      --default-addr-pool "$FLOCK_SWARM_POOL" --default-addr-pool-mask-length 24 >/dev/null || return 1
  fi
  token=$(docker -H "$manager" swarm join-token -q worker) || return 1
  for i in $(seq 2 "$n"); do
    [ "$(docker -H "$(flock_engine_sock "$i")" info -f '{{.Swarm.LocalNodeState}}' 2>/dev/null)" = active ] && continue
    docker -H "$(flock_engine_sock "$i")" swarm join --token "$token" --advertise-addr "$FLOCK_LINK_NET.$i" \
      --listen-addr "$FLOCK_LINK_NET.$i:2377" "$FLOCK_LINK_NET.1:2377" >/dev/null || return 1
  done
  flock_log "engines 1-$n are a swarm for networks (manager: engine 1, pool $FLOCK_SWARM_POOL)"
}

# Starts engines 1..$1 and the registry, seeded; with FLOCK_SWARM=1, the engines a swarm.
flock_up() {
  local n=$1 i
  mkdir -p "$FLOCK_DIR"
  flock_registry_start || return 1
  for i in $(seq 1 "$n"); do flock_engine_start "$i" || return 1; done
  flock_seed_busybox 1 || return 1
  if [ "${FLOCK_SWARM:-0}" = 1 ]; then flock_swarm_up "$n" || return 1; fi
}

# Stops everything under $FLOCK_DIR and removes it, with this flock's network namespaces and
# veths (found by name, so also those of a run whose directory is gone).
flock_down() {
  local d i ns stops=()
  for d in "$FLOCK_DIR"/engine-*; do  # all at once: each may wait for its containers to stop
    [ -d "$d" ] || continue
    i=${d##*engine-}
    flock_engine_stop "$i" &
    stops+=($!)
  done
  ((${#stops[@]} == 0)) || wait "${stops[@]}"
  for pidfile in "$FLOCK_DIR"/*.pid "$FLOCK_DIR"/registry/*.pid; do
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^flock$FLOCK_PORT_BASE-e[0-9]+\$" || true); do
    flock_engine_net_down "${ns##*-e}"
  done
  flock_lan_down
  sleep 0.2
  rm -rf "$FLOCK_DIR"
}
