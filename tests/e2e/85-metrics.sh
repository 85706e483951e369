#!/usr/bin/env bash
# Prometheus metrics, scraped by a real Prometheus (Debian's): flocker-proxy's and the
# reference decider's /metrics on listeners of their own, and values that move as docker
# requests are made: requests by class/method/status, latency, bytes, hijacked sessions,
# decider calls by RPC and code, decisions by kind and host, per-host health, the model.
source "$(dirname "$0")/lib.sh"
e2e_begin metrics 2

PROXY_METRICS=127.0.0.1:$((FLOCK_PORT_BASE + 60))
DECIDER_METRICS=127.0.0.1:$((FLOCK_PORT_BASE + 61))
PROM=127.0.0.1:$((FLOCK_PORT_BASE + 62))
IMG=$FLOCK_BUSYBOX

write_hosts 2
start_decider --metrics-listen "tcp://$DECIDER_METRICS"
start_proxy --decider "$DECIDER" --health-interval 0.5 --metrics-listen "tcp://$PROXY_METRICS"
wait_healthy_hosts 2 || true

# --- a real Prometheus scraping both every second
mkdir -p "$FLOCK_DIR/prometheus"
cat >"$FLOCK_DIR/prometheus/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: flocker-proxy
    static_configs: [{targets: ["$PROXY_METRICS"]}]
  - job_name: flocker-decider
    static_configs: [{targets: ["$DECIDER_METRICS"]}]
YML
prometheus --config.file="$FLOCK_DIR/prometheus/prometheus.yml" \
  --storage.tsdb.path="$FLOCK_DIR/prometheus/data" --web.listen-address="$PROM" \
  >"$FLOCK_DIR/prometheus.log" 2>&1 </dev/null &
E2E_PIDS+=($!)

# q EXPR: the value of a PromQL expression's first sample ("" when none).
q() {
  curl -s "http://$PROM/api/v1/query" --data-urlencode "query=$1" |
    jq -r '.data.result[0].value[1] // empty' 2>/dev/null
}
# rises EXPR BEFORE: waits up to 10 s for Prometheus to see EXPR above BEFORE.
rises() {
  local now
  for _ in $(seq 1 40); do
    now=$(q "$1")
    [ -n "$now" ] && awk -v a="$now" -v b="${2:-0}" 'BEGIN {exit !(a > b)}' && { echo "$now"; return 0; }
    sleep 0.25
  done
  echo "${now:-none}"
  return 1
}
# becomes EXPR VALUE: waits up to 10 s for Prometheus to see EXPR equal VALUE.
becomes() {
  for _ in $(seq 1 40); do
    [ "$(q "$1")" = "$2" ] && return 0
    sleep 0.25
  done
  return 1
}

echo "== Prometheus scrapes both targets"
check "both targets are up" becomes 'sum(up)' 2
check "the proxy's metrics pass promtool's lint" \
  sh -c "curl -sf http://$PROXY_METRICS/metrics | promtool check metrics"
check "the decider's metrics pass promtool's lint" \
  sh -c "curl -sf http://$DECIDER_METRICS/metrics | promtool check metrics"
api_metrics=$(curl -s "http://${PROXY#tcp://}/metrics")
expect_match "the Docker API port does not serve the metrics (docker's 404)" '"message"' "$api_metrics"

echo "== requests move the request metrics"
before=$(q 'sum(flocker_requests_total{class="containers",method="GET",code="200"})')
for _ in 1 2 3 4 5; do P ps >/dev/null; done
check "5 docker ps: containers GET 200 rise by at least 5" \
  rises 'sum(flocker_requests_total{class="containers",method="GET",code="200"})' "$(( ${before:-0} + 4 ))"
P inspect no-such-container >/dev/null 2>&1 || true
check "a 404 is counted with its status" rises 'sum(flocker_requests_total{code="404"})' 0
check "latency histogram counts requests" rises 'sum(flocker_request_latency_seconds_count{class="containers"})' 4
check "system class (ping, version, info)" rises 'sum(flocker_requests_total{class="system"})' 0

echo "== docker run: the decider is asked and decides"
expect_eq "docker run --rm echo" "hi" "$(P run --rm "$IMG" echo hi)"
check "proxy: Route calls OK" rises 'sum(flocker_decider_client_calls_total{rpc="Route",code="OK"})' 0
check "proxy: decider call latency observed" rises 'sum(flocker_decider_client_call_seconds_count{rpc="Route"})' 0
check "decider: container_create decisions by host" \
  rises 'sum(flocker_decider_decisions_total{job="flocker-decider",kind="container_create"})' 0
check "decider: image_pull decisions (the image was missing)" \
  rises 'sum(flocker_decider_decisions_total{kind="image_pull"})' 0
check "decider: its own call counts" rises 'sum(flocker_decider_server_calls_total{rpc="Route",code="OK"})' 0
check "response bytes counted" rises 'sum(flocker_response_body_bytes_total{class="containers"})' 0
check "a stream was relayed (attach of docker run): bytes out" \
  rises 'sum(flocker_response_body_bytes_total)' 1000

echo "== a hijacked session is open while docker run -i runs"
( sleep 3 | P run -i --rm "$IMG" cat >/dev/null 2>&1 ) &
run_i=$!
check "flocker_hijacked_sessions >= 1 during docker run -i" rises 'max_over_time(flocker_hijacked_sessions[5s])' 0
wait "$run_i" || true
check "and back to 0 after" becomes 'flocker_hijacked_sessions' 0

echo "== per host: health, event streams, the model, call latency"
check "both hosts healthy" becomes 'sum(flocker_host_healthy)' 2
check "both event streams up" becomes 'sum(flocker_host_event_stream_up)' 2
P run -d --name metrics-c1 "$IMG" sleep 300 >/dev/null
check "the model counts the container" rises 'flocker_model_objects{kind="containers"}' 0
check "the model counts 2 hosts" becomes 'flocker_model_objects{kind="hosts"}' 2
P system df >/dev/null
check "fan-out latency by host (system df asks each host)" rises 'count(flocker_host_call_seconds_count)' 1

echo "== an engine goes down: its health and event stream drop to 0"
flock_engine_stop 2
check "e2: flocker_host_healthy 0" becomes 'flocker_host_healthy{host="e2"}' 0
check "e2: event stream 0" becomes 'flocker_host_event_stream_up{host="e2"}' 0
expect_eq "e1 still healthy" "1" "$(q 'flocker_host_healthy{host="e1"}')"
flock_engine_start 2
check "e2: healthy again" becomes 'flocker_host_healthy{host="e2"}' 1

echo "== docker info: Reserved CPUs and Memory are what containers reserve, as in Swarm"
P run -d --name reserve1 --cpus 0.5 --memory 64m "$IMG" sleep 300 >/dev/null
info=$(P info 2>/dev/null)
expect_match "Reserved CPUs: 0.5 / NCPU on its host" "Reserved CPUs: 0\.5 / [0-9]+" "$info"
expect_match "Reserved Memory: 64 MiB / MemTotal on its host" "Reserved Memory: 64 MiB / [0-9.]+ GiB" "$info"
expect_match "flocker-proxy --version" "^flocker-proxy [0-9]+\.[0-9]+\.[0-9]+" "$("$BUILD/proxy/flocker-proxy" --version)"

P rm -f metrics-c1 reserve1 >/dev/null 2>&1 || true
e2e_end
