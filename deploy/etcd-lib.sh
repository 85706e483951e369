# Functions to run a local etcd cluster of N members on loopback (Debian's etcd 3.4), for
# proxies that coordinate through it (flocker-proxy --coordination etcd://...). Sourced by
# deploy/coordinated/up.sh, bench/coordination.sh and the end-to-end tests. Source it, then:
#
#   etcd_cluster_start DIR BASEPORT N   N members, numbered 1..N; member i: client
#                                       127.0.0.1:BASEPORT+2i, peer 127.0.0.1:BASEPORT+2i+1,
#                                       data DIR/m<i>, log DIR/m<i>.log, pid DIR/m<i>.pid.
#                                       Returns once `endpoint health` is OK for all.
#   etcd_endpoints                      127.0.0.1:P1,127.0.0.1:P2,... (client ports)
#   etcd_url                            etcd://127.0.0.1:P1,... (what --coordination takes)
#   etcd_member_endpoint I              127.0.0.1:P<i>
#   etcd_member_stop I [kill]           SIGTERM member i (SIGKILL after 5 s; `kill`: SIGKILL at
#                                       once, a crash); its data stays
#   etcd_member_start I                 restart member i on its data, same flags,
#                                       --initial-cluster-state existing; waits for it to be
#                                       healthy when a quorum of members runs, else only until
#                                       its client port listens
#   etcd_member_running I               true while member i's process is alive
#   etcd_leader                         the number of the member that leads (none: nothing)
#   etcd_has_quorum                     true when a linearizable read succeeds (~1 s when not)
#   etcd_wait_healthy [SECONDS]         until every running member is healthy (default 30)
#   etcd_wait_no_quorum [SECONDS]       until etcd_has_quorum fails (default 30)
#   etcd_ctl ARGS...                    etcdctl against every member (e.g. etcd_ctl put K V)
#   etcd_cluster_down                   kill every member, remove DIR
#
# The cluster's settings are kept in DIR/cluster.env, so another shell can act on it after
# `source deploy/etcd-lib.sh; FLOCKER_ETCD_DIR=DIR` (e.g. etcd_member_stop 2 in a test).
# Timing: --heartbeat-interval 100 --election-timeout 1000 (ms): a dead leader is replaced
# within ~1-2 s. etcd 3.4 has no --unsafe-no-fsync (3.5 has), so writes are fsynced.
# FLOCKER_ETCD_LOG_LEVEL (default info) is the members' --log-level.
# (Names here avoid the ETCD_ prefix: etcd reads every ETCD_* variable as a flag.)

FLOCKER_ETCD_DIR=${FLOCKER_ETCD_DIR:-}

etcd_log() { echo "[etcd] $*" >&2; }

# Loads DIR/cluster.env (base port, size, token) unless this shell already has it.
_etcd_state() {
  [ -n "$FLOCKER_ETCD_DIR" ] || { etcd_log "no cluster: call etcd_cluster_start, or set FLOCKER_ETCD_DIR"; return 1; }
  if [ -z "${FLOCKER_ETCD_BASEPORT:-}" ] || [ "${FLOCKER_ETCD_LOADED:-}" != "$FLOCKER_ETCD_DIR" ]; then
    [ -f "$FLOCKER_ETCD_DIR/cluster.env" ] || { etcd_log "$FLOCKER_ETCD_DIR/cluster.env: no such cluster"; return 1; }
    # shellcheck disable=SC1091
    source "$FLOCKER_ETCD_DIR/cluster.env"
    FLOCKER_ETCD_LOADED=$FLOCKER_ETCD_DIR
  fi
}

# etcd 3.4 refuses to start on architectures it does not support unless told to; amd64 and
# ppc64le are supported, arm64 is not (in 3.4).
_etcd_arch_env() {
  case $(uname -m) in
    x86_64 | ppc64le) ;;
    aarch64) export ETCD_UNSUPPORTED_ARCH=arm64 ;;
    *)
      ETCD_UNSUPPORTED_ARCH=$(dpkg --print-architecture 2>/dev/null || uname -m)
      export ETCD_UNSUPPORTED_ARCH
      ;;
  esac
}

_etcd_client_port() { echo $((FLOCKER_ETCD_BASEPORT + 2 * $1)); }
_etcd_peer_port() { echo $((FLOCKER_ETCD_BASEPORT + 2 * $1 + 1)); }

etcd_member_endpoint() { _etcd_state || return 1; echo "127.0.0.1:$(_etcd_client_port "$1")"; }

etcd_endpoints() {
  local i out=""
  _etcd_state || return 1
  for i in $(seq 1 "$FLOCKER_ETCD_N"); do out+="${out:+,}127.0.0.1:$(_etcd_client_port "$i")"; done
  echo "$out"
}

etcd_url() { echo "etcd://$(etcd_endpoints)"; }

etcd_ctl() {
  _etcd_state || return 1
  etcdctl --endpoints="$(etcd_endpoints)" --dial-timeout=1s --command-timeout="${FLOCKER_ETCDCTL_TIMEOUT:-3s}" "$@"
}

# The pid of member $1 if its process is alive (a zombie is not), checked against its command
# line so that a stale pid file never names someone else's process.
_etcd_member_pid() {
  local pid state
  pid=$(cat "$FLOCKER_ETCD_DIR/m$1.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ "$state" != Z ] || return 1
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "--data-dir $FLOCKER_ETCD_DIR/m$1 " || return 1
  echo "$pid"
}

etcd_member_running() { _etcd_state && _etcd_member_pid "$1" >/dev/null; }

# Starts member $1's process with state $2 (new or existing); does not wait.
_etcd_member_run() {
  local i=$1 state=$2 d=$FLOCKER_ETCD_DIR j cluster=""
  for j in $(seq 1 "$FLOCKER_ETCD_N"); do cluster+="${cluster:+,}m$j=http://127.0.0.1:$(_etcd_peer_port "$j")"; done
  mkdir -p "$d/m$i"
  chmod 700 "$d/m$i"
  _etcd_arch_env
  # bash -c writes the pid of the process that becomes etcd (exec), whatever setsid does.
  # shellcheck disable=SC2016
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$d/m$i.pid" \
    etcd --name "m$i" --data-dir "$d/m$i" \
    --listen-client-urls "http://127.0.0.1:$(_etcd_client_port "$i")" \
    --advertise-client-urls "http://127.0.0.1:$(_etcd_client_port "$i")" \
    --listen-peer-urls "http://127.0.0.1:$(_etcd_peer_port "$i")" \
    --initial-advertise-peer-urls "http://127.0.0.1:$(_etcd_peer_port "$i")" \
    --initial-cluster "$cluster" --initial-cluster-token "$FLOCKER_ETCD_TOKEN" \
    --initial-cluster-state "$state" \
    --heartbeat-interval 100 --election-timeout 1000 \
    --auto-compaction-mode revision --auto-compaction-retention 10000 \
    --logger zap --log-outputs stderr --log-level "${FLOCKER_ETCD_LOG_LEVEL:-info}" \
    >>"$d/m$i.log" 2>&1 </dev/null &
  disown $! 2>/dev/null || true  # its end is not this shell's business (no "Killed" notices)
  local deadline=$((SECONDS + 5))
  until _etcd_member_pid "$i" >/dev/null; do  # the pid file is written by then
    [ $SECONDS -lt $deadline ] || { etcd_log "member $i did not start; its log:"; tail -20 "$d/m$i.log" >&2; return 1; }
    sleep 0.05
  done
}

# True when member $1's client port accepts connections.
_etcd_listening() { (exec 3<>"/dev/tcp/127.0.0.1/$(_etcd_client_port "$1")") 2>/dev/null; }

_etcd_member_healthy() {
  etcdctl --endpoints="127.0.0.1:$(_etcd_client_port "$1")" --dial-timeout=1s --command-timeout=1s \
    endpoint health >/dev/null 2>&1
}

etcd_cluster_start() {
  local dir=$1 base=$2 n=$3 i deadline
  if [ -z "$dir" ] || [ -z "$base" ] || [ -z "$n" ]; then
    etcd_log "usage: etcd_cluster_start DIR BASEPORT N"
    return 1
  fi
  if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
    etcd_log "etcd is not installed (Debian: etcd-server etcd-client)"
    return 1
  fi
  dir=$(realpath -m "$dir")
  if [ -f "$dir/cluster.env" ]; then  # a previous cluster in the same place
    FLOCKER_ETCD_DIR=$dir FLOCKER_ETCD_LOADED="" etcd_cluster_down
  fi
  mkdir -p "$dir"
  FLOCKER_ETCD_DIR=$dir
  FLOCKER_ETCD_BASEPORT=$base
  FLOCKER_ETCD_N=$n
  FLOCKER_ETCD_TOKEN=flocker-$base-$(date +%s%N)-$$
  cat >"$dir/cluster.env" <<ENV
FLOCKER_ETCD_BASEPORT=$base
FLOCKER_ETCD_N=$n
FLOCKER_ETCD_TOKEN=$FLOCKER_ETCD_TOKEN
ENV
  FLOCKER_ETCD_LOADED=$dir
  for i in $(seq 1 "$n"); do
    rm -rf "${dir:?}/m$i" "$dir/m$i.log"
    _etcd_member_run "$i" new || return 1
  done
  etcd_wait_healthy 30 || {
    etcd_log "the cluster did not become healthy; the members' logs:"
    for i in $(seq 1 "$n"); do tail -5 "$dir/m$i.log" | sed "s/^/m$i: /" >&2; done
    return 1
  }
  etcd_log "$n members up: $(etcd_endpoints)"
}

# Waits up to $1 seconds (default 30) until every running member answers `endpoint health`.
etcd_wait_healthy() {
  local deadline=$((SECONDS + ${1:-30})) i ok
  _etcd_state || return 1
  while :; do
    ok=1
    for i in $(seq 1 "$FLOCKER_ETCD_N"); do
      _etcd_member_pid "$i" >/dev/null || continue
      _etcd_member_healthy "$i" || { ok=0; break; }
    done
    [ $ok = 1 ] && return 0
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}

etcd_leader() {
  local i
  _etcd_state || return 1
  for i in $(seq 1 "$FLOCKER_ETCD_N"); do
    _etcd_member_pid "$i" >/dev/null || continue
    # endpoint status -w simple: ENDPOINT, ID, VERSION, DB SIZE, IS LEADER, ...
    etcdctl --endpoints="127.0.0.1:$(_etcd_client_port "$i")" --dial-timeout=1s --command-timeout=1s \
      endpoint status 2>/dev/null | awk -F', ' '$5 == "true" {found = 1} END {exit !found}' &&
      { echo "$i"; return 0; }
  done
  return 0
}

etcd_has_quorum() {
  local i
  _etcd_state || return 1
  for i in $(seq 1 "$FLOCKER_ETCD_N"); do
    _etcd_member_pid "$i" >/dev/null || continue
    etcdctl --endpoints="127.0.0.1:$(_etcd_client_port "$i")" --dial-timeout=1s --command-timeout=1s \
      get --consistency=l /flocker-quorum-probe >/dev/null 2>&1 && return 0
  done
  return 1
}

etcd_wait_no_quorum() {
  local deadline=$((SECONDS + ${1:-30}))
  while etcd_has_quorum; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}

etcd_member_stop() {
  local i=$1 sig=TERM pid
  _etcd_state || return 1
  [ "${2:-}" = kill ] && sig=KILL
  pid=$(_etcd_member_pid "$i") || return 0
  kill -$sig "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    _etcd_member_pid "$i" >/dev/null || break
    sleep 0.1
  done
  if _etcd_member_pid "$i" >/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.1
  fi
  rm -f "$FLOCKER_ETCD_DIR/m$i.pid"
}

etcd_member_start() {
  local i=$1 running=0 j deadline
  _etcd_state || return 1
  _etcd_member_pid "$i" >/dev/null && return 0
  [ -d "$FLOCKER_ETCD_DIR/m$i/member" ] || { etcd_log "member $i has no data in $FLOCKER_ETCD_DIR/m$i"; return 1; }
  _etcd_member_run "$i" existing || return 1
  for j in $(seq 1 "$FLOCKER_ETCD_N"); do _etcd_member_pid "$j" >/dev/null && running=$((running + 1)); done
  deadline=$((SECONDS + 20))
  if [ $running -gt $((FLOCKER_ETCD_N / 2)) ]; then
    until _etcd_member_healthy "$i"; do
      [ $SECONDS -lt $deadline ] || { etcd_log "member $i is not healthy after its restart"; return 1; }
      sleep 0.1
    done
  else
    until _etcd_listening "$i"; do
      [ $SECONDS -lt $deadline ] || { etcd_log "member $i does not listen after its restart"; return 1; }
      sleep 0.1
    done
  fi
}

etcd_cluster_down() {
  local i pid
  _etcd_state 2>/dev/null || return 0
  for i in $(seq 1 "$FLOCKER_ETCD_N"); do
    if pid=$(_etcd_member_pid "$i"); then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  for i in $(seq 1 "$FLOCKER_ETCD_N"); do
    for _ in $(seq 1 20); do _etcd_member_pid "$i" >/dev/null || break; sleep 0.05; done
  done
  rm -rf "${FLOCKER_ETCD_DIR:?}"
  FLOCKER_ETCD_LOADED="" FLOCKER_ETCD_BASEPORT=""
}
