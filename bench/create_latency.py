"""Container create latency, direct and through flocker, interleaved.

    create_latency.py IMAGE COUNT NAME=HOST:PORT ...
Prints one CSV line per target: name,p50_us,p99_us. Every container made is removed (not timed).
"""
import http.client
import json
import statistics
import sys
import time

image, count, targets = sys.argv[1], int(sys.argv[2]), [t.split("=", 1) for t in sys.argv[3:]]
conns = {name: http.client.HTTPConnection(*addr.rsplit(":", 1)) for name, addr in targets}
times = {name: [] for name, _ in targets}
body = json.dumps({"Image": image, "Cmd": ["true"], "Labels": {"bench": "create"}})
for i in range(count):
    for name, _ in targets:
        conn = conns[name]
        start = time.perf_counter()
        conn.request("POST", "/v1.41/containers/create", body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        answer = resp.read()
        took = time.perf_counter() - start
        if resp.status != 201:
            sys.exit(f"{name}: create answered {resp.status}: {answer!r}")
        if i >= count // 10:  # the first tenth warms up
            times[name].append(took * 1e6)
        conn.request("DELETE", "/v1.41/containers/" + json.loads(answer)["Id"])
        conn.getresponse().read()
for name, _ in targets:
    t = sorted(times[name])
    print(f"{name},{statistics.median(t):.0f},{t[len(t) * 99 // 100]:.0f}")
