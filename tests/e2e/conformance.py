#!/usr/bin/python3
"""Conformance: the same requests sent to a Docker engine directly and through flocker, their
status codes and error messages compared, for every endpoint of docs/endpoints.md, each with
no version prefix, /v1.41, /v1.24 and /v1.20, and with unknown IDs, malformed JSON, wrong
methods and trailing slashes.

    conformance.py --direct HOST:PORT --proxy HOST:PORT --mode single|flock --image REF

--direct is one engine; --proxy is flocker in front of that engine alone (single) or of a
flock that includes it (flock). The objects the requests name are made on the direct engine,
so a flock must find them there. Where a flock cannot answer as one engine does (a sum, a fact
of several hosts), the difference is listed in KNOWN with its reason and reported, not failed.
Exit status 1 on any other difference.
"""
import argparse
import http.client
import json
import sys
import uuid

VERSIONS = ["", "/v1.41", "/v1.24", "/v1.20"]

# (method, path, body, how): body None (no body), a JSON text, or MALFORMED / TRAILING;
# how: "all" compares status and error message (and, for a JSON object answer, its keys),
# "status" only the status (the answer's content is the flock's: lists of several hosts).
MALFORMED = "notjson"
TRAILING = "TRAILING"  # a JSON object followed by garbage: Go's decoder reads the object only

CASES = [
    # system
    ("GET", "/_ping", None, "all"),
    ("HEAD", "/_ping", None, "all"),
    ("GET", "/version", None, "keys"),
    ("GET", "/info", None, "keys"),
    ("GET", "/events?since=1&until=2", None, "status"),
    ("GET", "/events?since=1&until=2&filters=notjson", None, "all"),
    ("GET", "/system/df", None, "status"),
    ("POST", "/auth", MALFORMED, "all"),
    ("DELETE", "/info", None, "all"),
    ("POST", "/version", None, "all"),
    ("GET", "/nonsense", None, "all"),
    # containers
    ("GET", "/containers/json?all=1", None, "status"),
    ("GET", "/containers/json?all=1&filters=notjson", None, "all"),
    ("GET", '/containers/json?all=1&filters={"since":["{c}"]}', None, "status"),
    ("GET", '/containers/json?all=1&filters={"before":["{c}"]}', None, "status"),
    ("GET", '/containers/json?all=1&filters={"since":["nosuchcontainer"]}', None, "all"),
    ("GET", "/containers/json/", None, "all"),
    ("PUT", "/containers/json", None, "all"),
    ("POST", "/containers/create?name=conf-new{u}", '{"Image":"{img}","Cmd":["true"]}', "all"),
    ("POST", "/containers/create", MALFORMED, "all"),
    ("POST", "/containers/create", TRAILING, "all"),
    ("POST", "/containers/create", '{"Image":5}', "all"),
    ("POST", "/containers/create", '{"Image":"conf-no-such-image:1"}', "all"),
    ("POST", "/containers/create?name=conf-run", '{"Image":"{img}"}', "all"),
    ("GET", "/containers/{c}/json", None, "keys"),
    ("GET", "/containers/nosuchcontainer/json", None, "all"),
    ("GET", "/containers/{c}/top", None, "all"),
    ("GET", "/containers/{c}/logs?stdout=1", None, "all"),
    ("GET", "/containers/{c}/logs", None, "all"),
    ("GET", "/containers/{c}/changes", None, "status"),
    ("GET", "/containers/nosuchcontainer/export", None, "all"),
    ("GET", "/containers/{c}/stats?stream=0", None, "status"),
    ("POST", "/containers/{c}/start", None, "all"),
    ("POST", "/containers/nosuchcontainer/start", None, "all"),
    ("POST", "/containers/nosuchcontainer/stop", None, "all"),
    ("POST", "/containers/nosuchcontainer/restart", None, "all"),
    ("POST", "/containers/nosuchcontainer/kill", None, "all"),
    ("POST", "/containers/{s}/kill", None, "all"),
    ("POST", "/containers/{s}/pause", None, "all"),
    ("POST", "/containers/{s}/unpause", None, "all"),
    ("POST", "/containers/{c}/update", MALFORMED, "all"),
    ("POST", "/containers/nosuchcontainer/update", "{}", "all"),
    ("POST", "/containers/{c}/resize?h=10&w=10", None, "all"),
    ("POST", "/containers/nosuchcontainer/wait", None, "all"),
    ("POST", "/containers/nosuchcontainer/rename?name=x", None, "all"),
    ("POST", "/containers/{c}/rename?name={c}", None, "all"),
    ("POST", "/containers/nosuchcontainer/attach?stream=1", None, "all"),
    ("HEAD", "/containers/{c}/archive?path=/etc/passwd", None, "all"),
    ("HEAD", "/containers/{c}/archive?path=/no/such/path", None, "all"),
    ("GET", "/containers/nosuchcontainer/archive?path=/", None, "all"),
    ("DELETE", "/containers/nosuchcontainer", None, "all"),
    ("DELETE", "/containers/{c}", None, "all"),
    ("POST", '/containers/prune?filters={"label":["conformance-matches-nothing"]}', None, "all"),
    # exec
    ("POST", "/containers/{c}/exec", '{"Cmd":["true"]}', "status"),
    ("POST", "/containers/{c}/exec", MALFORMED, "all"),
    ("POST", "/containers/nosuchcontainer/exec", '{"Cmd":["true"]}', "all"),
    ("POST", "/exec/nosuchexec/start", MALFORMED, "all"),
    ("POST", "/exec/nosuchexec/start", None, "all"),
    ("POST", "/exec/nosuchexec/start", "{}", "all"),
    ("POST", "/exec/nosuchexec/resize?h=1&w=1", None, "all"),
    ("GET", "/exec/{e}/json", None, "keys"),
    ("GET", "/exec/nosuchexec/json", None, "all"),
    # images
    ("GET", "/images/json", None, "status"),
    ("GET", "/images/json?filters=notjson", None, "all"),
    ("POST", "/images/create", None, "all"),
    ("POST", "/images/load", MALFORMED, "all"),
    ("GET", "/images/{i}/json", None, "keys"),
    ("GET", "/images/conf-no-such-image:1/json", None, "all"),
    ("GET", "/images/{i}/history", None, "status"),
    ("GET", "/images/conf-no-such-image:1/history", None, "all"),
    ("POST", "/images/{i}/tag?repo=conf-tag{u}&tag=1", None, "all"),
    ("POST", "/images/conf-no-such-image:1/tag?repo=x", None, "all"),
    ("DELETE", "/images/conf-no-such-image:1", None, "all"),
    ("GET", "/images/get?names=conf-no-such-image:1", None, "all"),
    ("POST", "/commit?container=nosuchcontainer", None, "all"),
    ("POST", '/images/prune?filters={"label":["conformance-matches-nothing"]}', None, "all"),
    ("POST", "/build/prune?filters=notjson", None, "all"),
    # networks
    ("GET", "/networks", None, "status"),
    ("GET", "/networks/", None, "status"),
    ("GET", "/networks?filters=notjson", None, "all"),
    ("POST", "/networks/create", MALFORMED, "all"),
    ("POST", "/networks/create", '{"Name":"{n}","CheckDuplicate":true}', "all"),
    ("POST", "/networks/create", '{"Name":"conf-net-new{u}","CheckDuplicate":true}', "status"),
    ("GET", "/networks/{n}", None, "keys"),
    ("GET", "/networks/nosuchnetwork", None, "all"),
    ("POST", "/networks/{n}/connect", MALFORMED, "all"),
    ("POST", "/networks/bridge/disconnect", MALFORMED, "all"),
    ("POST", "/networks/{n}/connect", '{"Container":"nosuchcontainer"}', "all"),
    ("POST", "/networks/nosuchnetwork/connect", '{"Container":"{c}"}', "all"),
    ("DELETE", "/networks/nosuchnetwork", None, "all"),
    ("POST", '/networks/prune?filters={"label":["conformance-matches-nothing"]}', None, "all"),
    # volumes
    ("GET", "/volumes", None, "status"),
    ("GET", "/volumes?filters=notjson", None, "all"),
    ("POST", "/volumes/create", MALFORMED, "all"),
    ("POST", "/volumes/create", TRAILING, "status"),
    ("POST", "/volumes/create", '{"Name":"conf-vol-new{u}"}', "all"),
    ("POST", "/volumes/create", '{"Name":"{v}"}', "all"),
    ("GET", "/volumes/{v}", None, "keys"),
    ("GET", "/volumes/nosuchvolume", None, "all"),
    ("GET", "/volumes/", None, "all"),
    ("DELETE", "/volumes/nosuchvolume", None, "all"),
    ("POST", '/volumes/prune?filters={"label":["conformance-matches-nothing"]}', None, "all"),
    # swarm mode: the engine is not in a swarm, and a flock is not either
    ("GET", "/swarm", None, "all"),
    ("POST", "/swarm/leave?force=1", None, "all"),
    ("POST", "/swarm/update", "{}", "all"),
    ("GET", "/swarm/unlockkey", None, "all"),
    ("POST", "/swarm/unlock", "{}", "all"),
    ("GET", "/nodes", None, "all"),
    ("GET", "/nodes/x", None, "all"),
    ("DELETE", "/nodes/x", None, "all"),
    ("GET", "/services", None, "all"),
    ("POST", "/services/create", "{}", "all"),
    ("GET", "/services/x", None, "all"),
    ("DELETE", "/services/x", None, "all"),
    ("GET", "/services/x/logs?stdout=1", None, "all"),
    ("GET", "/tasks", None, "all"),
    ("GET", "/tasks/x", None, "all"),
    ("GET", "/secrets", None, "all"),
    ("POST", "/secrets/create", "{}", "all"),
    ("GET", "/secrets/x", None, "all"),
    ("GET", "/configs", None, "all"),
    ("POST", "/configs/create", "{}", "all"),
    ("GET", "/configs/x", None, "all"),
    # plugins: the engine has none
    ("GET", "/plugins", None, "all"),
    ("GET", "/plugins/conf-no-such-plugin/json", None, "all"),
    ("POST", "/plugins/conf-no-such-plugin/enable?timeout=1", None, "all"),
    ("POST", "/plugins/conf-no-such-plugin/disable", None, "all"),
    ("DELETE", "/plugins/conf-no-such-plugin", None, "all"),
]

# Differences a flock keeps on purpose: the keys its answer adds, and why (docs/endpoints.md
# lists these and the differences of content that a key comparison does not show).
KNOWN = {
    ("flock", "GET", "/info"): ({"SystemStatus"}, "SystemStatus lists the flock's hosts, as Swarm classic did"),
    ("flock", "GET", "/containers/{c}/json"): ({"Node"}, "Node names the host it runs on, as in Swarm classic"),
}


def send(addr, method, path, body):
    host, port = addr.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    headers = {"Host": "docker"}
    data = None
    if body is not None:
        data = body.encode()
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        payload = resp.read() if method != "HEAD" else b""
    except (TimeoutError, OSError) as e:  # a status no answer has: it shows as a difference
        return 0, "", f"no answer: {e}".encode()
    finally:
        conn.close()
    return resp.status, resp.getheader("Content-Type", ""), payload


def message(ctype, payload):
    """The error a docker client prints: the JSON message, or the plain text."""
    if "json" in ctype:
        try:
            return json.loads(payload).get("message", payload.decode(errors="replace"))
        except (ValueError, AttributeError):
            return payload.decode(errors="replace")
    return payload.decode(errors="replace").strip()


def keys(ctype, payload):
    try:
        value = json.loads(payload)
    except ValueError:
        return None
    return sorted(value) if isinstance(value, dict) else None


def setup(engine, image):
    """The objects the cases name, made on the direct engine."""
    def call(method, path, body=None, ok=(200, 201, 204, 304)):
        status, ctype, payload = send(engine, method, path, json.dumps(body) if body is not None else None)
        if status not in ok:
            sys.exit(f"setup: {method} {path}: {status} {payload[:200]!r}")
        try:
            return json.loads(payload) if payload and "json" in ctype else None
        except ValueError:  # a stream of JSON lines (a pull's progress)
            return None

    name, _, tag = image.rpartition(":")
    call("POST", f"/images/create?fromImage={name}&tag={tag}")
    for c in ("conf-run", "conf-stopped"):
        send(engine, "DELETE", f"/containers/{c}?force=1", None)
    call("POST", "/containers/create?name=conf-run", {"Image": image, "Cmd": ["sleep", "3600"]})
    call("POST", "/containers/conf-run/start")
    call("POST", "/containers/create?name=conf-stopped", {"Image": image, "Cmd": ["true"]})
    exec_id = call("POST", "/containers/conf-run/exec", {"Cmd": ["true"]})["Id"]
    call("POST", "/volumes/create", {"Name": "conf-vol"})
    send(engine, "DELETE", "/networks/conf-net", None)
    call("POST", "/networks/create", {"Name": "conf-net", "CheckDuplicate": True})
    call("POST", f"/images/{image}/tag?repo=conf-img&tag=1")
    return {"{c}": "conf-run", "{s}": "conf-stopped", "{e}": exec_id, "{i}": "conf-img:1",
            "{v}": "conf-vol", "{n}": "conf-net", "{img}": image}


def fill(text, values, unique):
    for k, v in values.items():
        text = text.replace(k, v)
    return text.replace("{u}", unique)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--direct", required=True)
    ap.add_argument("--proxy", required=True)
    ap.add_argument("--mode", choices=["single", "flock"], required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    values = setup(args.direct, args.image)
    run = uuid.uuid4().hex[:6]
    same = known = 0
    failures = []
    for method, template, body, how in CASES:
        for version in VERSIONS:
            answers = []
            for target in (args.direct, args.proxy):
                unique = f"-{run}-{'d' if target == args.direct else 'p'}{VERSIONS.index(version)}"
                path = version + fill(template, values, unique)
                payload = body
                if body == TRAILING:
                    payload = json.dumps({"Image": values["{img}"], "Name": "conf-t" + unique}) + " trailing"
                elif body is not None:
                    payload = fill(body, values, unique)
                answers.append(send(target, method, path, payload))
            (ds, dt, dp), (ps, pt, pp) = answers
            what = f"{method} {version}{fill(template, values, '')}" + (f" [{body[:30]}]" if body else "")
            diffs = []
            if ds != ps:
                diffs.append(f"status {ds} direct, {ps} proxy")
            elif ds >= 400 and how != "status" and message(dt, dp) != message(pt, pp):
                diffs.append(f"message {message(dt, dp)!r} direct, {message(pt, pp)!r} proxy")
            elif ds < 300 and how == "keys" and keys(dt, dp) != keys(pt, pp):
                kd, kp = set(keys(dt, dp) or []), set(keys(pt, pp) or [])
                extra = KNOWN.get((args.mode, method, template), (set(), ""))[0]
                if kd - kp or kp - kd != extra:
                    diffs.append(f"keys: only direct {sorted(kd - kp)}, only proxy {sorted(kp - kd)}")
                else:
                    known += 1
                    print(f"  known {what}: adds {sorted(extra)} ({KNOWN[(args.mode, method, template)][1]})")
                    continue
            if not diffs:
                same += 1
                if args.verbose:
                    print(f"  same  {what}: {ds}")
            else:
                failures.append(what)
                print(f"  DIFF  {what}: {'; '.join(diffs)}")
    total = same + known + len(failures)
    print(f"conformance ({args.mode}): {total} requests each way: {same} the same, {known} known "
          f"differences, {len(failures)} unexpected")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
