#!/usr/bin/env python3
"""The differential test of merged reads, on real engines.

Random sequences of create, start, stop, kill, pause, unpause, restart, rename and rm, made
through flocker and directly on the engines (and image tags moved on an engine), and after
each, a random `docker ps` query (every filter dockerd knows) asked twice of flocker: from
memory, and live (Cache-Control: no-cache, a fan-out to the engines). They must agree:
- at once after a change through flocker (read-your-writes);
- after a change made directly on an engine, once its event is in: how long that took is
  the freshness, reported as p50/p99/max.
Durations in Status ("Up 3 seconds") are compared as words: the two reads are a moment apart.

usage: merged_reads.py --proxy HOST:PORT --engine HOST:PORT ... --image IMG [--steps N] [--seed S]
Prints a summary line last; exits 1 on any disagreement.
"""
import argparse
import http.client
import json
import os
import random
import re
import sys
import time
import urllib.parse

DURATION = re.compile(r"(Less than a second|About a minute|About an hour|\d+ (second|minute|hour|day|week|month|year)s?)")


def words(body):
    return DURATION.sub("<d>", body)


class Api:
    def __init__(self, address):
        self.address = address

    def call(self, method, path, body=None, headers=None):
        host, port = self.address.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        h = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body)
            h["Content-Type"] = "application/json"
        conn.request(method, "/v1.41" + path, body=data, headers=h)
        res = conn.getresponse()
        out = res.read().decode()
        conn.close()
        return res.status, out


def sorted_items(body):
    try:
        v = json.loads(body)
    except ValueError:
        return body
    if isinstance(v, dict) and "Volumes" in v:
        v = v["Volumes"] or []
    if not isinstance(v, list):
        return body
    return sorted(json.dumps(i, sort_keys=True) for i in v)


def q(params, filters=None):
    p = dict(params)
    if filters:
        p["filters"] = json.dumps(filters)
    return "/containers/json" + ("?" + urllib.parse.urlencode(p) if p else "")


class Run:
    def __init__(self, args):
        self.proxy = Api(args.proxy)
        self.engines = [Api(e) for e in args.engine]
        self.image = args.image
        self.rng = random.Random(args.seed)
        self.tracked = []  # dicts: id, name, engine (index or None: unknown), health
        self.next = 1
        self.fresh = []  # seconds until memory agreed after a change on an engine
        self.reads = 0
        self.failures = []
        self.health_lag = 0
        self.last = ""

    # --- reads

    def queries(self):
        out = [q({"all": 1}), q({}), q({"all": 1, "limit": 3}), q({"limit": 1}),
               q({}, {"status": ["running"]}), q({}, {"status": ["exited", "paused", "created"]}),
               q({"all": 1}, {"label": ["tier=a"]}), q({"all": 1}, {"label": ["tier"]}),
               q({"all": 1}, {"network": ["bridge"]}), q({"all": 1}, {"network": ["none"]}),
               q({"all": 1}, {"volume": ["/data"]}), q({"all": 1}, {"volume": ["mrvol1"]}),
               q({"all": 1}, {"expose": ["80/tcp"]}), q({"all": 1}, {"publish": ["21000-21999"]}),
               q({"all": 1}, {"health": ["healthy"]}), q({"all": 1}, {"health": ["none"]}),
               q({"all": 1}, {"health": ["starting", "unhealthy"]}),
               q({"all": 1}, {"exited": ["137"]}), q({"all": 1}, {"exited": ["0"]}),
               q({"all": 1}, {"isolation": ["default"]}), q({"all": 1}, {"is-task": ["false"]}),
               q({"all": 1}, {"is-task": ["true"]}),
               q({"all": 1}, {"ancestor": [self.image]}), q({"all": 1}, {"ancestor": ["mr:x"]}),
               q({"all": 1}, {"name": ["mr"]}), q({"all": 1}, {"name": ["^/mr1"]}),
               q({"all": 1}, {"status": ["running"], "label": ["tier=b"]}),
               q({"all": 1}, {"id": [self.rng.choice("0123456789abcdef")]})]
        if self.tracked:
            t = self.rng.choice(self.tracked)
            u = self.rng.choice(self.tracked)
            out += [q({"all": 1}, {"id": [t["id"][:12]]}), q({}, {"name": [t["name"]]}),
                    q({"all": 1}, {"id": [t["id"][:12]], "name": [u["name"]]}),
                    q({"all": 1}, {"since": [t["name"]]}), q({"all": 1}, {"before": [t["name"]]}),
                    q({"all": 1, "limit": 2}, {"since": [t["id"][:12]]}),
                    q({"all": 1}, {"since": [u["name"]], "before": [t["name"]]})]
        return out

    def differs(self, target):
        s1, memory = self.proxy.call("GET", target)
        s2, live = self.proxy.call("GET", target, headers={"Cache-Control": "no-cache"})
        self.reads += 1
        if s1 != s2 or words(memory) != words(live):
            return (s1, memory, s2, live)
        return None

    def lists_differ(self):
        """docker images, volume ls, network ls: memory and live as sets (engines list them
        in their maps' order)."""
        for target in ("/images/json", "/images/json?all=1", "/volumes", "/networks"):
            s1, memory = self.proxy.call("GET", target)
            s2, live = self.proxy.call("GET", target, headers={"Cache-Control": "no-cache"})
            self.reads += 1
            if s1 != s2 or sorted_items(memory) != sorted_items(live):
                return (target, s1, memory, s2, live)
        return None

    def agree_eventually(self, target, deadline=5.0):
        start = time.monotonic()
        while True:
            d = self.differs(target)
            if not d:
                return time.monotonic() - start, None
            if time.monotonic() - start > deadline:
                return None, d
            time.sleep(0.005)

    # --- changes

    def api(self, through_proxy, engine):
        return self.proxy if through_proxy else self.engines[engine]

    def owner(self, cid):
        for i, e in enumerate(self.engines):
            if e.call("GET", "/containers/%s/json" % cid)[0] == 200:
                return i
        return None

    def create(self, through_proxy, engine):
        name = "mr%d" % self.next
        self.next += 1
        image = self.image
        if not through_proxy and self.rng.random() < 0.3:
            # a tag made on this engine only: `ps` shows it until it moves, then the image ID
            self.engines[engine].call("POST", "/images/%s/tag?repo=mr&tag=x" % urllib.parse.quote(self.image, safe=""))
            image = "mr:x"
        body = {"Image": image, "Cmd": ["sleep", "600"], "Labels": {"tier": self.rng.choice("ab")},
                "HostConfig": {}}
        health = self.rng.random() < 0.2
        if health:
            body["Healthcheck"] = {"Test": ["CMD", "true"], "Interval": 1000000000, "StartPeriod": 0}
        r = self.rng.random()
        if r < 0.2:
            body["HostConfig"]["Binds"] = ["mrvol%d:/data" % self.rng.randint(1, 3)]
        elif r < 0.3:
            body["HostConfig"]["NetworkMode"] = "none"
        elif r < 0.45:
            port = 21000 + self.next
            body["ExposedPorts"] = {"80/tcp": {}}
            body["HostConfig"]["PortBindings"] = {"80/tcp": [{"HostPort": str(port)}]}
        status, out = self.api(through_proxy, engine).call("POST", "/containers/create?name=" + name, body)
        if status != 201:
            return
        cid = json.loads(out)["Id"]
        self.last = "create %s %s" % (name, cid[:12])
        where = self.owner(cid) if through_proxy else engine
        self.tracked.append({"id": cid, "name": name, "engine": where, "health": health})
        if self.rng.random() < 0.6:
            self.api(through_proxy, where).call("POST", "/containers/%s/start" % cid)

    def change(self):
        through_proxy = self.rng.random() < 0.5
        engine = self.rng.randrange(len(self.engines))
        kind = self.rng.randrange(12) if self.tracked else 0
        if kind < 3:
            self.create(through_proxy, engine)
            return through_proxy, "create"
        if kind == 4:
            # a volume or a network made or removed
            api = self.api(through_proxy, engine)
            name = "mrx%d" % self.rng.randrange(3)
            volume = self.rng.random() < 0.5
            if self.rng.random() < 0.5:
                # (as the CLI asks: without CheckDuplicate an engine makes a second network of
                # the same name, and which one a list names first is its map's order)
                api.call("POST", "/volumes/create" if volume else "/networks/create",
                         {"Name": name} if volume else {"Name": name, "CheckDuplicate": True})
            else:
                api.call("DELETE", ("/volumes/" if volume else "/networks/") + name)
            return through_proxy, "volume" if volume else "network"
        if kind == 3 and not through_proxy:
            # the tag moves away (and sometimes comes back): containers made from it show the ID
            e = self.engines[engine]
            if self.rng.random() < 0.5:
                e.call("DELETE", "/images/mr:x?noprune=1")
            else:
                e.call("POST", "/images/%s/tag?repo=mr&tag=x" % urllib.parse.quote(self.image, safe=""))
            return through_proxy, "tag"
        t = self.rng.choice(self.tracked)
        api = self.api(through_proxy, t["engine"])
        action = self.rng.choice(["start", "stop", "kill", "pause", "unpause", "restart", "rename", "rm"])
        self.last = "%s %s %s" % (action, t["name"], t["id"][:12])
        if action == "rename":
            name = "mr%d" % self.next
            self.next += 1
            if api.call("POST", "/containers/%s/rename?name=%s" % (t["id"], name))[0] == 204:
                t["name"] = name
        elif action == "rm":
            if api.call("DELETE", "/containers/%s?force=1" % t["id"])[0] == 204:
                self.tracked.remove(t)
        elif action in ("stop", "restart"):
            api.call("POST", "/containers/%s/%s?t=0" % (t["id"], action))
        else:
            api.call("POST", "/containers/%s/%s" % (t["id"], action))
        return through_proxy, action

    # --- the run

    def only_health_differs(self, d):
        # A healthcheck's verdict changes on its own (its event is in flight): not the change's.
        try:
            memory = {c["Id"]: c for c in json.loads(d[1])}
            live = {c["Id"]: c for c in json.loads(d[3])}
        except (ValueError, TypeError, KeyError):  # an error's answer
            return False
        if set(memory) != set(live):
            return False
        for cid in memory:
            if words(json.dumps(memory[cid])) != words(json.dumps(live[cid])):
                if "health" not in memory[cid].get("Status", "") + live[cid].get("Status", ""):
                    return False
        return True

    def step(self, n):
        through_proxy, what = self.change()
        if os.environ.get("MERGED_READS_TRACE"):
            print("step %d: %s %s" % (n, "flocker" if through_proxy else "engine", self.last), file=sys.stderr)
        target = self.rng.choice(self.queries())
        if through_proxy:
            ld = self.lists_differ()
            if ld:
                self.fail(n, "read-your-writes (lists) after %s through flocker" % what, ld[0], ld[1:])
            d = self.differs(target)
            if d and self.only_health_differs(d):
                self.health_lag += 1
                _, d = self.agree_eventually(target)
            if d:
                self.fail(n, "read-your-writes after %s through flocker" % what, target, d)
        else:
            # The whole list first (so that no change is still on its way when a later step
            # checks read-your-writes), then the query.
            took, d = self.agree_eventually(q({"all": 1}))
            if d:
                self.fail(n, "memory never caught up with %s on an engine" % what, q({"all": 1}), d)
            else:
                self.fresh.append(took)
            _, d = self.agree_eventually(target)
            if d:
                self.fail(n, "memory never caught up with %s on an engine" % what, target, d)
            start = time.monotonic()
            ld = self.lists_differ()
            while ld and time.monotonic() - start < 5:
                time.sleep(0.01)
                ld = self.lists_differ()
            if ld:
                self.fail(n, "memory's lists never caught up with %s on an engine" % what, ld[0], ld[1:])

    def fail(self, n, why, target, d):
        self.failures.append(n)
        print("DIFF step %d: %s\n  %s" % (n, why, urllib.parse.unquote(target)))
        try:
            memory, live = json.loads(d[1]), json.loads(d[3])
            ids_m = [c["Id"][:12] + " " + c["Names"][0] for c in memory]
            ids_l = [c["Id"][:12] + " " + c["Names"][0] for c in live]
            if ids_m != ids_l:
                print("  memory lists %s\n  live lists   %s" % (ids_m, ids_l))
            for a, b in zip(memory, live):
                for k in a:
                    if words(json.dumps(a.get(k))) != words(json.dumps(b.get(k))):
                        print("  %s %s: memory %s, live %s" % (a["Names"][0], k, json.dumps(a.get(k))[:300],
                                                             json.dumps(b.get(k))[:300]))
        except (ValueError, TypeError, KeyError):
            try:  # a list of images, volumes or networks
                memory, live = json.loads(d[1]), json.loads(d[3])
                if isinstance(memory, dict):
                    memory, live = memory.get("Volumes") or [], live.get("Volumes") or []
                key = lambda x: x.get("Name") or x.get("Id")
                m, l = {key(x): x for x in memory}, {key(x): x for x in live}
                print("  only in memory: %s\n  only live: %s" % (sorted(set(m) - set(l)), sorted(set(l) - set(m))))
                sm, sl = sorted_items(d[1]), sorted_items(d[3])
                print("  %d entries in memory, %d live" % (len(sm), len(sl)))
                for x in sorted(set(sm) ^ set(sl))[:4]:
                    print("  %s: %s" % ("memory" if x in sm else "live", x[:400]))
                for k in sorted(set(m) & set(l)):
                    for f in m[k]:
                        if m[k][f] != l[k].get(f):
                            print("  %s %s: memory %s, live %s" % (k, f, json.dumps(m[k][f])[:200], json.dumps(l[k].get(f))[:200]))
            except (ValueError, TypeError, KeyError, AttributeError):
                print("  memory (%d): %s\n  live   (%d): %s" % (d[0], d[1][:600], d[2], d[3][:600]))


def pct(values, p):
    if not values:
        return 0.0
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proxy", required=True)
    ap.add_argument("--engine", action="append", required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--seed", type=int, default=int(os.environ.get("MERGED_READS_SEED", "20261130")))
    args = ap.parse_args()
    run = Run(args)
    for n in range(args.steps):
        run.step(n)
    for target in run.queries():  # every query once at the end
        _, d = run.agree_eventually(target)
        if d:
            run.fail(args.steps, "final", target, d)
    for c in list(run.tracked):
        run.proxy.call("DELETE", "/containers/%s?force=1" % c["id"])
    ms = [1000 * f for f in run.fresh]
    print("%d steps, %d reads compared, %d disagreements, %d waits for a healthcheck's event; freshness of changes "
          "on engines (%d): p50 %.1f ms, p99 %.1f ms, max %.1f ms" %
          (args.steps, run.reads, len(run.failures), run.health_lag, len(ms), pct(ms, 50), pct(ms, 99),
           max(ms) if ms else 0.0))
    sys.exit(1 if run.failures else 0)


if __name__ == "__main__":
    main()
