"""Runs examples/zone_decider.py as a process (serve(), signals and all) and calls it as the
proxy would."""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import unittest

import grpc

import flocker_decider
from flocker_decider import health, v1

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "examples", "zone_decider.py")
HOSTS = """# the flock
tcp://127.0.0.1:23751  e1  zone=a
tcp://127.0.0.1:23752  e2  zone=b  # trailing comment

127.0.0.1:23753 zone=b
"""
CANDIDATES = [
    v1.Candidate(name="e1", address="tcp://127.0.0.1:23751", labels={"zone": "a"}, healthy=True),
    v1.Candidate(name="e2", address="tcp://127.0.0.1:23752", labels={"zone": "b"}, healthy=True),
    v1.Candidate(name="127.0.0.1:23753", address="tcp://127.0.0.1:23753", labels={"zone": "b"},
                 healthy=False),
]


def create(labels, **kw):
    body = json.dumps({"Image": "busybox", "Env": ["KEEP=1"], "Labels": labels}).encode()
    return v1.RouteRequest(kind=v1.OPERATION_KIND_CONTAINER_CREATE, body=body,
                           candidates=CANDIDATES, **kw)


class ZoneDeciderTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        hosts = os.path.join(cls.dir.name, "hosts")
        with open(hosts, "w") as f:
            f.write(HOSTS)
        cls.proc = subprocess.Popen([sys.executable, EXAMPLE, "127.0.0.1:0", hosts],
                                    stderr=subprocess.PIPE, text=True)
        cls.log = []
        port = None
        for line in cls.proc.stderr:
            cls.log.append(line)
            m = re.search(r"\(port (\d+)\)", line)
            if m:
                port = int(m.group(1))
                break
        if port is None:
            raise RuntimeError("zone_decider.py did not start:\n" + "".join(cls.log))
        # keep draining stderr so the child never blocks on a full pipe
        cls.drain = threading.Thread(target=lambda: cls.log.extend(cls.proc.stderr), daemon=True)
        cls.drain.start()
        cls.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        cls.stub = flocker_decider.decider_pb2_grpc.DeciderStub(cls.channel)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        if cls.proc.poll() is None:
            cls.proc.kill()
            cls.proc.wait()
        cls.dir.cleanup()

    def test_1_list_reads_the_hosts_file(self):
        resp = self.stub.List(v1.ListRequest(), timeout=5)
        self.assertEqual([(h.name, h.address, dict(h.labels)) for h in resp.hosts], [
            ("e1", "tcp://127.0.0.1:23751", {"zone": "a"}),
            ("e2", "tcp://127.0.0.1:23752", {"zone": "b"}),
            ("127.0.0.1:23753", "127.0.0.1:23753", {"zone": "b"}),
        ])

    def test_2_zone_label_and_flocker_zone(self):
        req = create({"zone": "b"})
        self.assertEqual(list(self.stub.Route(req, timeout=5).hosts), ["e2"])
        remap = self.stub.RemapContainer(
            v1.RemapContainerRequest(host="e2", body=req.body), timeout=5)
        self.assertEqual(json.loads(remap.body)["Env"], ["KEEP=1", "FLOCKER_ZONE=b"])
        with self.assertRaises(grpc.RpcError) as cm:
            self.stub.Route(create({"zone": "c"}), timeout=5)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.FAILED_PRECONDITION)
        self.assertEqual(cm.exception.details(), "no healthy host in zone c")
        # Swarm classic's `-e constraint:zone==b`, as the proxy hands it over, parsed.
        by_constraint = create({})
        by_constraint.constraints.add(expression="zone==b", key="zone", op=v1.MATCH_OPERATOR_EQUAL,
                                      value="b", kind=v1.VALUE_KIND_PLAIN, source="Env")
        self.assertEqual(list(self.stub.Route(by_constraint, timeout=5).hosts), ["e2"])

    def test_3_pins_pulls_volumes_round_robin(self):
        route = lambda **kw: list(self.stub.Route(  # noqa: E731
            v1.RouteRequest(candidates=CANDIDATES, **kw), timeout=5).hosts)
        self.assertEqual(list(self.stub.Route(create({}, pinned_host="e2"), timeout=5).hosts), ["e2"])
        self.assertEqual(route(kind=v1.OPERATION_KIND_IMAGE_PULL), ["e1", "e2"])
        self.assertEqual(route(kind=v1.OPERATION_KIND_IMAGE_PULL, pinned_host="e1"), ["e1"])
        self.assertEqual(route(kind=v1.OPERATION_KIND_VOLUME_CREATE, pinned_host="e1"), ["e1", "e2"])
        self.assertEqual(route(kind=v1.OPERATION_KIND_NETWORK_CREATE), ["e1", "e2"])
        local = [route(kind=v1.OPERATION_KIND_VOLUME_CREATE, scope=v1.OBJECT_SCOPE_LOCAL) for _ in range(2)]
        self.assertEqual(sorted(sum(local, [])), ["e1", "e2"], "a local volume lives on one host")
        builds = sum((route(kind=v1.OPERATION_KIND_IMAGE_BUILD) for _ in range(4)), [])
        self.assertEqual(sorted(builds), ["e1", "e1", "e2", "e2"])

    def test_4_sigterm_stops_cleanly(self):
        self.assertEqual(health.check(self.channel, "flocker.v1.Decider"), health.SERVING)
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(15), 0, "".join(self.log))


if __name__ == "__main__":
    unittest.main()
