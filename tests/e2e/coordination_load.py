#!/usr/bin/env python3
"""Concurrent named creates through one or more flocker proxies: does every name end up on
exactly one engine, and does every other attempt get docker's 409?

    coordination_load.py --target tcp://127.0.0.1:2375 [--target ...] --image IMAGE
        [--creates 1000 --names 100 --clients 32 | --unique | --sequential]
        [--engines tcp://E1,tcp://E2,... [--pull] [--cleanup]] [--prefix P] [--raw FILE]

Each client has its own keep-alive connection (http.client) to one target (client k: target
k mod the number of targets; with --sequential, one client takes the targets in turn, a
connection to each) and sends POST /v1.41/containers/create?name=NAME with
{"Image": IMAGE, "Cmd": ["true"]}. The names: --names of them, each attempted
--creates/--names times, in shuffled order; --unique: --creates names, each once.

Prints a JSON summary: counts by status, latency p50/p99 (ms), overall and per target, and the
unexpected answers: anything but 201 and 409, and a 409 whose message is not docker's
'Conflict. The container name "/NAME" is already in use by container ...'.
With --engines, lists every engine's containers afterwards and counts the test's names:
`duplicates` (a name on more than one engine, or twice), `missing` (a name that got a 201 but
is on no engine), `orphans` (on an engine, but nobody got a 201), `never_created` (no 201,
nowhere). Exit status 1 when there are duplicates, unexpected answers, or when the number of
201s is not the number of distinct names (with --engines, also missing or orphans).
--cleanup removes the test's containers afterwards (through the engines, or without --engines
through the first target, by the ids the 201s gave). --pull pulls IMAGE on every engine first.
"""
import argparse
import http.client
import json
import os
import queue
import random
import re
import socket
import sys
import threading
import time
import urllib.parse

API = "/v1.41"


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


def connect(address, timeout):
    """tcp://HOST:PORT, HOST:PORT or unix:///path -> a new (lazy) HTTP connection."""
    if address.startswith("unix://"):
        return UnixHTTPConnection(address[len("unix://"):], timeout)
    hostport = address[len("tcp://"):] if address.startswith("tcp://") else address
    host, port = hostport.rsplit(":", 1)
    return http.client.HTTPConnection(host.strip("[]"), int(port), timeout=timeout)


def call(conn, method, path, body=None):
    """One request on conn -> (status, parsed JSON body or text)."""
    headers = {}
    if body is not None:
        body = json.dumps(body, separators=(",", ":"))  # compact, as the docker CLI sends
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body, headers)
    resp = conn.getresponse()
    raw = resp.read()
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        data = raw.decode("utf-8", "replace")
    return resp.status, data


def message_of(data):
    if isinstance(data, dict):
        return str(data.get("message", data))
    return str(data)


def conflict_re(name):
    # dockerd: Conflict. The container name "/NAME" is already in use by container "ID". You
    # have to remove (or rename) that container to be able to reuse that name.
    return re.compile(r'^Conflict\. The container name "/' + re.escape(name) +
                      r'" is already in use by container "?([0-9a-f]{12,64})?')


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100.0 * len(sorted_values) + 0.5)) - 1))
    return round(sorted_values[k], 2)


def latency_stats(values):
    v = sorted(values)
    if not v:
        return {"n": 0}
    return {"n": len(v), "p50": percentile(v, 50), "p90": percentile(v, 90),
            "p99": percentile(v, 99), "max": round(v[-1], 2), "mean": round(sum(v) / len(v), 2)}


class Client(threading.Thread):
    """Takes (index, name) items from the shared queue and creates, on its own connection(s)."""

    def __init__(self, number, targets, work, results, image, timeout, start_gate):
        super().__init__(daemon=True)
        self.number, self.targets, self.work, self.results = number, targets, work, results
        self.image, self.timeout, self.start_gate = image, timeout, start_gate
        self.conns = {}
        self.turn = 0

    def conn(self, target):
        if target not in self.conns:
            self.conns[target] = connect(target, self.timeout)
        return self.conns[target]

    def run(self):
        self.start_gate.wait()
        while True:
            try:
                index, name = self.work.get_nowait()
            except queue.Empty:
                break
            target = self.targets[self.turn % len(self.targets)]
            self.turn += 1
            path = f"{API}/containers/create?name={urllib.parse.quote(name)}"
            body = {"Image": self.image, "Cmd": ["true"], "Labels": {"flocker.test": "coordination-load"}}
            started = time.perf_counter()
            wall = time.time()
            try:
                status, data = call(self.conn(target), "POST", path, body)
                error = None
            except (OSError, http.client.HTTPException) as e:
                status, data, error = "error", None, f"{type(e).__name__}: {e}"
                self.conns.pop(target).close()  # a new connection for the next request
            took = (time.perf_counter() - started) * 1000
            rec = {"i": index, "name": name, "target": target, "client": self.number,
                   "status": status, "ms": took, "t": wall}
            if status == 201:
                rec["id"] = data.get("Id") if isinstance(data, dict) else None
            elif error:
                rec["message"] = error
            else:
                rec["message"] = message_of(data)
            self.results.append(rec)  # list.append is atomic
        for c in self.conns.values():
            c.close()


def engine_containers(engine, prefix, timeout):
    """All containers of an engine whose name starts with prefix: [(name, id)]."""
    conn = connect(engine, timeout)
    # every container this tool makes has the label; the prefix picks this run's
    filters = urllib.parse.quote(json.dumps({"label": ["flocker.test=coordination-load"]}))
    status, data = call(conn, "GET", f"{API}/containers/json?all=1&filters={filters}")
    conn.close()
    if status != 200:
        raise RuntimeError(f"{engine}: GET /containers/json answered {status}: {message_of(data)}")
    out = []
    for c in data:
        for n in c.get("Names") or []:
            n = n.lstrip("/")
            if n.startswith(prefix) and "/" not in n:  # not a link alias (/other/alias)
                out.append((n, c["Id"]))
    return out


def pull(engine, image, timeout):
    ref, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "latest")
    conn = connect(engine, timeout)
    q = urllib.parse.urlencode({"fromImage": ref, "tag": tag})
    conn.request("POST", f"{API}/images/create?{q}")
    resp = conn.getresponse()
    text = resp.read().decode("utf-8", "replace")
    conn.close()
    if resp.status != 200 or '"error"' in text:
        raise RuntimeError(f"{engine}: pull {image}: {resp.status} {text[-300:]}")


def remove(address, ident, timeout):
    conn = connect(address, timeout)
    try:
        status, data = call(conn, "DELETE", f"{API}/containers/{ident}?force=1&v=1")
    finally:
        conn.close()
    return status in (204, 404)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", action="append", required=True,
                    help="tcp://HOST:PORT (or unix:///path) of a proxy; repeatable")
    ap.add_argument("--image", required=True)
    ap.add_argument("--creates", type=int, default=1000, help="requests in all (default 1000)")
    ap.add_argument("--names", type=int, default=100, help="distinct names (default 100)")
    ap.add_argument("--clients", type=int, default=32, help="concurrent clients (default 32)")
    ap.add_argument("--unique", action="store_true", help="every request a new name")
    ap.add_argument("--sequential", action="store_true", help="one client, one request at a time")
    ap.add_argument("--engines", default="", help="the engines directly, comma separated")
    ap.add_argument("--pull", action="store_true", help="pull IMAGE on every engine first")
    ap.add_argument("--cleanup", action="store_true", help="remove the test's containers at the end")
    ap.add_argument("--prefix", default=None, help="name prefix (default cload-<random>-)")
    ap.add_argument("--seed", type=int, default=None, help="shuffle seed")
    ap.add_argument("--timeout", type=float, default=120, help="seconds per request (default 120)")
    ap.add_argument("--warmup", type=int, default=0,
                    help="leave each target's first K answers out of the latency figures")
    ap.add_argument("--raw", default=None, help="write every request as CSV to this file")
    ap.add_argument("--max-listed", type=int, default=50, help="most unexpected answers listed")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    prefix = args.prefix or f"cload-{os.getpid():x}{rng.randrange(16 ** 4):04x}-"
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if args.unique:
        names = [f"{prefix}{i}" for i in range(args.creates)]
        attempts = list(names)
    else:
        names = [f"{prefix}{i}" for i in range(min(args.names, args.creates))]
        attempts = [names[i % len(names)] for i in range(args.creates)]
    rng.shuffle(attempts)
    clients = 1 if args.sequential else max(1, min(args.clients, len(attempts)))

    if args.pull:
        for e in engines:
            pull(e, args.image, args.timeout)

    work = queue.Queue()
    for item in enumerate(attempts):
        work.put(item)
    results = []
    gate = threading.Event()
    threads = []
    for k in range(clients):
        # client k: target k mod T; the one sequential client takes them all in turn
        mine = args.target if args.sequential else [args.target[k % len(args.target)]]
        threads.append(Client(k, mine, work, results, args.image, args.timeout, gate))
    for t in threads:
        t.start()
    started = time.perf_counter()
    gate.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started

    # --- answers
    results.sort(key=lambda r: r["i"])
    counts, unexpected, conflict_ids = {}, [], {}
    created = {}  # name -> [ids given by 201s]
    for r in results:
        key = str(r["status"])
        counts[key] = counts.get(key, 0) + 1
        if r["status"] == 201:
            created.setdefault(r["name"], []).append(r.get("id"))
        elif r["status"] == 409:
            m = conflict_re(r["name"]).match(r["message"])
            if not m:
                unexpected.append(r)
            elif m.group(1):
                conflict_ids.setdefault(r["name"], set()).add(m.group(1))
        else:
            unexpected.append(r)
    n201 = counts.get("201", 0)
    seen = {}
    lat_all, lat_target, lat_status = [], {}, {}
    for r in results:
        seen[r["target"]] = seen.get(r["target"], 0) + 1
        if seen[r["target"]] <= args.warmup:
            continue
        lat_all.append(r["ms"])
        lat_target.setdefault(r["target"], []).append(r["ms"])
        lat_status.setdefault(str(r["status"]), []).append(r["ms"])

    summary = {
        "prefix": prefix,
        "mode": "unique" if args.unique else "contended",
        "sequential": args.sequential,
        "targets": args.target,
        "clients": clients,
        "requests": len(results),
        "distinct_names": len(names),
        "elapsed_s": round(elapsed, 2),
        "rate_per_s": round(len(results) / elapsed, 1) if elapsed > 0 else None,
        "status_counts": dict(sorted(counts.items())),
        "latency_ms": latency_stats(lat_all),
        "latency_ms_by_target": {t: latency_stats(v) for t, v in lat_target.items()},
        "latency_ms_by_status": {s: latency_stats(v) for s, v in sorted(lat_status.items())},
        "status_by_target": {},
        "created_201": n201,
        "names_with_several_201": sorted(n for n, ids in created.items() if len(ids) > 1),
        "unexpected_count": len(unexpected),
        "unexpected": [{k: r.get(k) for k in ("name", "target", "status", "message")}
                       | {"ms": round(r["ms"], 1)} for r in unexpected[:args.max_listed]],
    }
    for r in results:
        by = summary["status_by_target"].setdefault(r["target"], {})
        by[str(r["status"])] = by.get(str(r["status"]), 0) + 1
    ok = not unexpected and n201 == len(names)

    # --- where the names are
    present = {}  # name -> [(engine, id)]
    if engines:
        for e in engines:
            for n, cid in engine_containers(e, prefix, args.timeout):
                present.setdefault(n, []).append((e, cid))
        duplicates = {n: [e for e, _ in where] for n, where in sorted(present.items()) if len(where) > 1}
        missing = sorted(n for n in created if n not in present)
        orphans = sorted(n for n in present if n not in created)
        never = sorted(n for n in names if n not in created and n not in present)
        # a 409 naming a container that is not where that name lives (informational: with two
        # uncoordinated proxies, the loser's 409 may name the other copy)
        ids_of = {n: {cid for _, cid in where} for n, where in present.items()}
        odd_409 = sorted(n for n, ids in conflict_ids.items()
                         if any(not any(full.startswith(i) for full in ids_of.get(n, ())) for i in ids))
        summary["engines"] = {
            "engines": engines,
            "containers_found": sum(len(w) for w in present.values()),
            "per_engine": {e: sum(1 for w in present.values() for x, _ in w if x == e) for e in engines},
            "duplicates_count": len(duplicates),
            "extra_copies": sum(len(v) - 1 for v in duplicates.values()),
            "duplicates": duplicates,
            "missing": missing,
            "orphans": orphans,
            "never_created": never,
            "conflicts_naming_another_container": odd_409,
        }
        ok = ok and not duplicates and not missing and not orphans
    summary["ok"] = ok

    if args.raw:
        with open(args.raw, "w") as f:
            f.write("index,unix_time,client,target,name,status,ms\n")
            for r in results:
                f.write(f'{r["i"]},{r["t"]:.6f},{r["client"]},{r["target"]},{r["name"]},{r["status"]},{r["ms"]:.3f}\n')

    # --- cleanup
    if args.cleanup:
        removed = failed = 0
        if engines:
            for n, where in present.items():
                for e, cid in where:
                    if remove(e, cid, args.timeout):
                        removed += 1
                    else:
                        failed += 1
        else:
            for n, ids in created.items():
                for cid in ids:
                    if cid and remove(args.target[0], cid, args.timeout):
                        removed += 1
                    else:
                        failed += 1
        summary["cleanup"] = {"removed": removed, "failed": failed}

    json.dump(summary, sys.stdout, indent=2)
    print()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
