# Functions to run a local flock of real Docker engines and a registry on one machine.
# Sourced by deploy/flock-up.sh and the end-to-end tests. Needs root.
#
# Each engine is its own dockerd (Debian docker.io), started under `unshare --mount --uts`
# with its own /etc/docker (so its own key.json and engine ID) and hostname (its Name):
#   --data-root --exec-root --pidfile -H --iptables=false --bridge=none --storage-driver=vfs
# Engine i listens on unix://$FLOCK_DIR/engine-$i/docker.sock and tcp://127.0.0.1:$((FLOCK_PORT_BASE+i)).
# FLOCK_ENGINE_ARGS, when set, is added to the dockerd command line (e.g. --tlsverify ...).
# The registry (Debian docker-registry) listens on 127.0.0.1:$((FLOCK_PORT_BASE+50)) and holds
# a busybox image built from Debian's busybox-static: $FLOCK_REGISTRY/busybox:latest.

FLOCK_DIR=${FLOCK_DIR:-/tmp/flocker-flock}
FLOCK_PORT_BASE=${FLOCK_PORT_BASE:-23750}
FLOCK_REGISTRY=127.0.0.1:$((FLOCK_PORT_BASE + 50))
FLOCK_BUSYBOX=$FLOCK_REGISTRY/busybox:latest

flock_log() { echo "[flock] $*" >&2; }

# Why this machine cannot run the real-engine fixture, or nothing.
flock_unavailable() {
  [ "$(id -u)" -eq 0 ] || { echo "not root"; return; }
  command -v dockerd >/dev/null || { echo "dockerd is not installed"; return; }
  command -v docker-registry >/dev/null || { echo "docker-registry is not installed"; return; }
  command -v unshare >/dev/null || { echo "unshare is not installed"; return; }
}

flock_engine_dir() { echo "$FLOCK_DIR/engine-$1"; }
flock_engine_tcp() { echo "tcp://127.0.0.1:$((FLOCK_PORT_BASE + $1))"; }
flock_engine_sock() { echo "unix://$(flock_engine_dir "$1")/docker.sock"; }

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

flock_engine_start() {
  local i=$1 d port
  d=$(flock_engine_dir "$i")
  port=$((FLOCK_PORT_BASE + i))
  mkdir -p "$d/data" "$d/exec" "$d/etc-docker" /etc/docker
  cat >"$d/run.sh" <<RUN
set -e
mount --bind "$d/etc-docker" /etc/docker
hostname flock-e$i
exec dockerd --data-root "$d/data" --exec-root "$d/exec" --pidfile "$d/dockerd.pid" \\
  -H "unix://$d/docker.sock" -H "tcp://127.0.0.1:$port" \\
  --iptables=false --ip-masq=false --bridge=none --storage-driver=vfs \\
  --containerd-namespace "flock-e$i" --containerd-plugins-namespace "flock-e$i-plugins" \\
  --log-level warn ${FLOCK_ENGINE_ARGS:-}
RUN
  setsid unshare --mount --uts bash "$d/run.sh" >"$d/dockerd.log" 2>&1 </dev/null &
  echo $! >"$d/unshare.pid"
  disown $! 2>/dev/null || true  # its end is not this shell's business (no "Killed" notices)
  if ! flock_wait_ping "unix://$d/docker.sock" 60; then
    flock_log "engine $i did not start; its log:"
    tail -20 "$d/dockerd.log" >&2
    return 1
  fi
  flock_log "engine $i (flock-e$i) up at tcp://127.0.0.1:$port"
}

# Stops engine $1; with "kill" as $2, SIGKILLs it (a crash) instead of a clean stop.
flock_engine_stop() {
  local d pid sig=TERM
  d=$(flock_engine_dir "$1")
  [ "${2:-}" = kill ] && sig=KILL
  pid=$(cat "$d/dockerd.pid" 2>/dev/null || true)
  [ -n "$pid" ] && kill -$sig "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  # Whatever a crash left of this engine (its containerd, shims): their command lines name
  # its directory, which no other flock shares.
  pkill -KILL -f "$d/" 2>/dev/null || true
  rm -f "$d/dockerd.pid"
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
  local deadline=$((SECONDS + 30))
  until curl -sf "http://$FLOCK_REGISTRY/v2/" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { flock_log "registry did not start"; tail "$d/registry.log" >&2; return 1; }
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

# Starts engines 1..$1 and the registry, seeded.
flock_up() {
  local n=$1 i
  mkdir -p "$FLOCK_DIR"
  flock_registry_start || return 1
  for i in $(seq 1 "$n"); do flock_engine_start "$i" || return 1; done
  flock_seed_busybox 1 || return 1
}

# Stops everything under $FLOCK_DIR and removes it.
flock_down() {
  local d i
  for d in "$FLOCK_DIR"/engine-*; do
    [ -d "$d" ] || continue
    i=${d##*engine-}
    flock_engine_stop "$i"
  done
  for pidfile in "$FLOCK_DIR"/*.pid "$FLOCK_DIR"/registry/registry.pid; do
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  sleep 0.2
  rm -rf "$FLOCK_DIR"
}
