# HAProxy in front of flocker-proxy processes, from deploy/coordinated/haproxy.cfg (the
# template). Sourced by deploy/coordinated/up.sh and tests/e2e/lib.sh (start_haproxy).
#   haproxy_render OUT BIND STATS_BIND HOST:PORT...   writes a configuration: clients on BIND
#                                                     (HOST:PORT), the stats page on STATS_BIND,
#                                                     one server p<k> per HOST:PORT
#   haproxy_start CFG DIR                             runs it in the foreground of a process of
#                                                     its own: DIR/haproxy.pid, DIR/haproxy.log;
#                                                     returns once BIND answers /_ping (15 s)
#   haproxy_stop DIR                                  stops it
HAPROXY_TEMPLATE=${HAPROXY_TEMPLATE:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/haproxy.cfg}

haproxy_render() {
  local out=$1 bind=$2 stats=$3 k=0 servers="" a
  shift 3
  for a in "$@"; do
    k=$((k + 1))
    servers+="  server p$k ${a#tcp://}"$'\n'
  done
  awk -v bind="$bind" -v stats="$stats" -v servers="${servers%$'\n'}" '
    $0 == "@SERVERS@" { print servers; next }
    { gsub(/@BIND@/, bind); gsub(/@STATS_BIND@/, stats); print }' "$HAPROXY_TEMPLATE" >"$out"
  haproxy -c -q -f "$out" || { echo "[haproxy] $out is not a valid configuration" >&2; return 1; }
}

haproxy_start() {
  local cfg=$1 dir=$2 bind deadline
  bind=$(awk '$1 == "bind" {print $2; exit}' "$cfg")
  # shellcheck disable=SC2016
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$dir/haproxy.pid" haproxy -db -f "$cfg" \
    >>"$dir/haproxy.log" 2>&1 </dev/null &
  disown $! 2>/dev/null || true
  deadline=$((SECONDS + 15))
  until curl -sf --max-time 2 "http://$bind/_ping" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      echo "[haproxy] no answer on $bind; its log:" >&2
      tail -20 "$dir/haproxy.log" >&2
      return 1
    fi
    sleep 0.1
  done
}

haproxy_stop() {
  local pid
  pid=$(cat "$1/haproxy.pid" 2>/dev/null) || return 0
  if tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q '^haproxy '; then
    kill "$pid" 2>/dev/null || true
  fi
  rm -f "$1/haproxy.pid"
}
