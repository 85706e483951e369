#!/usr/bin/env bash
# Merged reads from memory on 3 real engines: tests/e2e/merged_reads.py makes random changes
# through flocker and directly on the engines, and compares every `docker ps` flocker answers
# from memory (each of dockerd's filters, limits, since/before across hosts) with a live
# fan-out of the same query; then docker info's counts, and an engine whose dockerd restarts.
source "$(dirname "$0")/lib.sh"
e2e_begin merged-reads 3

write_hosts 3
start_decider
start_proxy --decider "$DECIDER" --health-interval 0.5
wait_healthy_hosts 3 || true
IMG=$FLOCK_BUSYBOX
for i in 1 2 3; do E "$i" pull -q "$IMG" >/dev/null; done
engines=()
for i in 1 2 3; do engines+=(--engine "$(flock_engine_tcp "$i" | sed 's|^tcp://||')"); done

echo "== the differential: random changes, every read from memory against a live fan-out"
out=$(/usr/bin/python3 "$REPO/tests/e2e/merged_reads.py" --proxy "${PROXY#tcp://}" "${engines[@]}" \
  --image "$IMG" --steps "${MERGED_READS_STEPS:-150}" 2>&1) && ok=1 || ok=0
{ echo "$out" | grep -A3 "^DIFF" || true; } | head -60
_record "$ok" "$(tail -1 <<<"$out")" "$out"

echo "== docker info: counts from memory equal the engines' own"
for n in 1 2 3 4 5 6; do P run -d --name "count$n" "$IMG" sleep 600 >/dev/null; done
P pause count1 >/dev/null
P stop -t 0 count2 >/dev/null
P create --name count7 "$IMG" >/dev/null
counts() { curl -s "$@" "http://${PROXY#tcp://}/v1.41/info" | /usr/bin/python3 -c '
import json, sys
i = json.load(sys.stdin)
print(i["Containers"], i["ContainersRunning"], i["ContainersPaused"], i["ContainersStopped"], i["Images"])'; }
expect_eq "memory's counts are the engines'" "$(counts -H 'Cache-Control: no-cache')" "$(counts)"
expect_match "each host says how its part of the model stands" '"  └ Model","live"' \
  "$(curl -s "http://${PROXY#tcp://}/v1.41/info")"

echo "== an engine restarts: listed again before it is answered from memory"
E 2 run -d --name "restart-me" "$IMG" sleep 600 >/dev/null
flock_engine_stop 2
flock_engine_start 2 >/dev/null
wait_healthy_hosts 3 || true
E 2 start restart-me >/dev/null  # (a change right after it is back)
ps_words() { curl -s "$@" "http://${PROXY#tcp://}/v1.41/containers/json?all=1" | /usr/bin/python3 -c '
import json, re, sys
for c in json.load(sys.stdin):
    print(c["Names"][0], c["State"], re.sub(r"\d+ \w+|Less than a second|About an? \w+", "<d>", c["Status"]))'; }
for _ in $(seq 50); do [ "$(ps_words)" = "$(ps_words -H 'Cache-Control: no-cache')" ] && break; sleep 0.1; done
expect_eq "after the restart, memory and the engines agree" "$(ps_words -H 'Cache-Control: no-cache')" "$(ps_words)"

e2e_end
