#!/usr/bin/python3
"""A zone-aware decider:  zone_decider.py LISTEN_ADDRESS HOSTS_FILE

HOSTS_FILE has one engine a line, `ADDRESS [NAME] [key=value ...]`, '#' starts a comment:
    tcp://127.0.0.1:23751  e1  zone=a
    tcp://127.0.0.1:23752  e2  zone=b
It is read again on every List, so edits show at the proxy's next inventory refresh.

A container with `-e constraint:zone==X` (or Labels {"zone": "X"}) goes to a healthy host
labelled zone=X and gets FLOCKER_ZONE=X in its Env; pulls go to every healthy host; shared volumes
and networks too, while local ones (request.scope == OBJECT_SCOPE_LOCAL: they live on one
host, and the proxy sends the containers that use them there) round-robin like anything
else. A pinned host (docker run's pull and retried
create) is kept when it is healthy.

Run with PYTHONPATH=build/sdk/python/gen:sdk/python, or after pip install ./sdk/python (see
sdk/python/README.md).
"""
import itertools
import json
import sys

import flocker_decider
from flocker_decider import DecisionError, v1

SPREAD = (v1.OPERATION_KIND_VOLUME_CREATE, v1.OPERATION_KIND_NETWORK_CREATE)


def read_hosts(path):
    hosts = []
    with open(path) as f:
        for line in f:
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            name = next((w for w in words[1:] if "=" not in w), None)
            labels = dict(w.split("=", 1) for w in words[1:] if "=" in w)
            hosts.append({"name": name, "address": words[0], "labels": labels})
    return hosts


class ZoneDecider(flocker_decider.Decider):
    def __init__(self, hosts_file):
        self.hosts_file = hosts_file
        self.turn = itertools.count()

    def list(self, request, context):
        return read_hosts(self.hosts_file)

    def route(self, request, context):
        healthy = [c for c in request.candidates if c.healthy]
        zone = None
        # The zone: Swarm classic's `-e constraint:zone==X` (the proxy parsed it), or a label.
        for c in request.constraints:
            if c.key == "zone" and c.op == v1.MATCH_OPERATOR_EQUAL and c.kind == v1.VALUE_KIND_PLAIN:
                zone = c.value
        if zone is None and request.kind == v1.OPERATION_KIND_CONTAINER_CREATE and request.body:
            zone = (json.loads(request.body).get("Labels") or {}).get("zone")
        if zone:
            healthy = [c for c in healthy if c.labels.get("zone") == zone]
            if not healthy:
                raise DecisionError(f"no healthy host in zone {zone}")
        if not healthy:
            raise DecisionError("no healthy host in the flock")

        pinned = [c for c in healthy if c.name == request.pinned_host]
        shared = request.kind in SPREAD and request.scope != v1.OBJECT_SCOPE_LOCAL
        if shared or (request.kind == v1.OPERATION_KIND_IMAGE_PULL and not pinned):
            return healthy
        return pinned or healthy[next(self.turn) % len(healthy)]

    def remap_container(self, request, context):
        zone = next((h["labels"].get("zone") for h in read_hosts(self.hosts_file)
                     if (h["name"] or flocker_decider.default_name(h["address"])) == request.host),
                    None)
        if not zone:
            return None  # forward the create body unchanged
        body = json.loads(request.body)
        body["Env"] = (body.get("Env") or []) + [f"FLOCKER_ZONE={zone}"]
        return body


if __name__ == "__main__":
    listen = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:7070"
    hosts_file = sys.argv[2] if len(sys.argv) > 2 else "hosts"
    sys.exit(flocker_decider.serve(ZoneDecider(hosts_file), listen))
