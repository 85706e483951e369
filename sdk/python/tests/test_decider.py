"""flocker_decider against a real gRPC server on 127.0.0.1:<free port> and a real client."""
import json
import logging
import threading
import unittest

import grpc

import flocker_decider
from flocker_decider import DecisionError, NoOpinion, health, v1

logging.getLogger("flocker_decider").setLevel(logging.CRITICAL)  # expected errors: quiet

CANDIDATES = [
    v1.Candidate(name="e1", address="tcp://127.0.0.1:2375", labels={"zone": "a"}, healthy=True,
                 containers_running=3, containers_total=5, ncpu=8, mem_total_bytes=2**40,
                 image=v1.IMAGE_PRESENCE_PRESENT, engine_version="20.10.24+dfsg1"),
    v1.Candidate(name="e2", address="tcp://127.0.0.1:2376", labels={"zone": "b"}, healthy=False),
    v1.Candidate(name="e3", address="unix:///run/e3.sock", healthy=True),
]
CREATE_BODY = {"Image": "busybox", "Env": ["A=1"], "HostConfig": {"Memory": 2**62 + 1}}


class DeciderCase(unittest.TestCase):
    """Starts self.decider (set by each test) and a client stub."""

    def serve(self, decider):
        self.server = flocker_decider.start(decider, "127.0.0.1:0")
        self.addCleanup(self.server.stop, 0)
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.server.port}")
        self.addCleanup(self.channel.close)
        self.stub = flocker_decider.decider_pb2_grpc.DeciderStub(self.channel)
        return self.stub

    def assertStatus(self, call, code, message=None):
        with self.assertRaises(grpc.RpcError) as cm:
            call()
        self.assertEqual(cm.exception.code(), code, cm.exception.details())
        if message is not None:
            self.assertEqual(cm.exception.details(), message)
        return cm.exception


class ListenTest(DeciderCase):
    def test_a_second_decider_on_a_taken_port_fails_with_a_message(self):
        # gRPC's default SO_REUSEPORT would let both listen and split the calls.
        self.serve(flocker_decider.Decider())
        with self.assertRaises(RuntimeError) as cm:
            flocker_decider.start(flocker_decider.Decider(), f"127.0.0.1:{self.server.port}")
        self.assertIn(f"cannot listen on 127.0.0.1:{self.server.port}", str(cm.exception))


class DefaultsTest(DeciderCase):
    def test_every_rpc_is_unimplemented_by_default(self):
        stub = self.serve(flocker_decider.Decider())
        for call in (lambda: stub.List(v1.ListRequest(), timeout=5),
                     lambda: stub.Route(v1.RouteRequest(), timeout=5),
                     lambda: stub.RemapContainer(v1.RemapContainerRequest(), timeout=5),
                     lambda: stub.RegistryAuth(v1.RegistryAuthRequest(), timeout=5),
                     lambda: stub.Authorize(v1.AuthorizeRequest(), timeout=5)):
            self.assertStatus(call, grpc.StatusCode.UNIMPLEMENTED, flocker_decider.NO_OPINION_MESSAGE)


class ListTest(DeciderCase):
    def test_protobuf_response(self):
        class D(flocker_decider.Decider):
            def list(self, request, context):
                assert request.proxy_name == "p1"
                return v1.ListResponse(hosts=[v1.Host(name="a", address="tcp://h:1")],
                                       refresh_interval_seconds=9)
        resp = self.serve(D()).List(v1.ListRequest(proxy_name="p1"), timeout=5)
        self.assertEqual(resp.refresh_interval_seconds, 9)
        self.assertEqual([(h.name, h.address) for h in resp.hosts], [("a", "tcp://h:1")])

    def test_conveniences(self):
        class D(flocker_decider.Decider):
            def list(self, request, context):
                return [("a", "tcp://10.0.0.1:2376", {"zone": "x", "gpu": 1}),
                        ("b", "10.0.0.2:2375"),
                        "tcp://10.0.0.3:2375/",
                        "unix:///run/d.sock",
                        {"address": "10.0.0.4:2375", "labels": {"zone": "y"}},
                        v1.Host(name="f", address="tcp://h:2",
                                tls=v1.TlsSettings(ca_file="/ca.pem"))]
        resp = self.serve(D()).List(v1.ListRequest(), timeout=5)
        self.assertEqual([(h.name, h.address) for h in resp.hosts], [
            ("a", "tcp://10.0.0.1:2376"), ("b", "10.0.0.2:2375"),
            ("10.0.0.3:2375", "tcp://10.0.0.3:2375/"), ("/run/d.sock", "unix:///run/d.sock"),
            ("10.0.0.4:2375", "10.0.0.4:2375"), ("f", "tcp://h:2")])
        self.assertEqual(dict(resp.hosts[0].labels), {"zone": "x", "gpu": "1"})
        self.assertEqual(dict(resp.hosts[4].labels), {"zone": "y"})
        self.assertEqual(resp.hosts[5].tls.ca_file, "/ca.pem")
        self.assertFalse(resp.hosts[0].HasField("tls"))

    def test_bad_answer_is_internal(self):
        class D(flocker_decider.Decider):
            def list(self, request, context):
                return None
        stub = self.serve(D())
        self.assertStatus(lambda: stub.List(v1.ListRequest(), timeout=5),
                          grpc.StatusCode.INTERNAL, "List failed in the decider: list() returned None")


class RouteTest(DeciderCase):
    def route_request(self, **kw):
        fields = dict(request_id="r1", kind=v1.OPERATION_KIND_CONTAINER_CREATE, image="busybox",
                      name="web", body=json.dumps(CREATE_BODY).encode(),
                      client=v1.Client(remote_address="127.0.0.1:4000"), candidates=CANDIDATES,
                      query="name=web")
        fields.update(kw)
        return v1.RouteRequest(**fields)

    def test_request_arrives_whole(self):
        seen = []

        class D(flocker_decider.Decider):
            def route(self, request, context):
                seen.append(request)
                return v1.RouteResponse(hosts=["e1"])
        resp = self.serve(D()).Route(self.route_request(pinned_host="e3"), timeout=5)
        self.assertEqual(list(resp.hosts), ["e1"])
        req = seen[0]
        self.assertEqual(req.kind, v1.OPERATION_KIND_CONTAINER_CREATE)
        self.assertEqual(req.pinned_host, "e3")
        self.assertEqual(json.loads(req.body)["HostConfig"]["Memory"], 2**62 + 1)  # exact
        self.assertEqual(list(req.candidates), CANDIDATES)
        self.assertEqual(req.client.remote_address, "127.0.0.1:4000")

    def test_conveniences(self):
        answers = iter(["e3", ["e1", "e3"], CANDIDATES[2], [CANDIDATES[0], "e3"], ("e1",)])

        class D(flocker_decider.Decider):
            def route(self, request, context):
                return next(answers)
        stub = self.serve(D())
        got = [list(stub.Route(self.route_request(), timeout=5).hosts) for _ in range(5)]
        self.assertEqual(got, [["e3"], ["e1", "e3"], ["e3"], ["e1", "e3"], ["e1"]])

    def test_errors(self):
        script = iter([
            DecisionError("no healthy host in zone a"),
            DecisionError("the flock is full", grpc.StatusCode.RESOURCE_EXHAUSTED),
            NoOpinion(),
            ValueError("bug in the decider"),
            None,
        ])

        class D(flocker_decider.Decider):
            def route(self, request, context):
                step = next(script)
                if step is None:
                    context.abort(grpc.StatusCode.PERMISSION_DENIED, "aborted by the handler")
                raise step
        stub = self.serve(D())
        call = lambda: stub.Route(self.route_request(), timeout=5)  # noqa: E731
        self.assertStatus(call, grpc.StatusCode.FAILED_PRECONDITION, "no healthy host in zone a")
        self.assertStatus(call, grpc.StatusCode.RESOURCE_EXHAUSTED, "the flock is full")
        self.assertStatus(call, grpc.StatusCode.UNIMPLEMENTED, flocker_decider.NO_OPINION_MESSAGE)
        self.assertStatus(call, grpc.StatusCode.INTERNAL,
                          "Route failed in the decider: bug in the decider")
        self.assertStatus(call, grpc.StatusCode.PERMISSION_DENIED, "aborted by the handler")

    def test_returning_none_is_internal(self):
        class D(flocker_decider.Decider):
            def route(self, request, context):
                pass
        stub = self.serve(D())
        err = self.assertStatus(lambda: stub.Route(self.route_request(), timeout=5),
                                grpc.StatusCode.INTERNAL)
        self.assertIn("route() returned None", err.details())


class RemapContainerTest(DeciderCase):
    def remap_request(self, **kw):
        fields = dict(request_id="r1", host="e1", name="web", body=json.dumps(CREATE_BODY).encode(),
                      image=json.dumps({"Config": {"Env": ["PATH=/bin"]}}).encode())
        fields.update(kw)
        return v1.RemapContainerRequest(**fields)

    def test_dict_answer_becomes_the_body(self):
        class D(flocker_decider.Decider):
            def remap_container(self, request, context):
                body = json.loads(request.body)
                image = json.loads(request.image)
                body["Env"] = body["Env"] + image["Config"]["Env"] + [f"HOST={request.host}"]
                return body
        resp = self.serve(D()).RemapContainer(self.remap_request(), timeout=5)
        body = json.loads(resp.body)
        self.assertEqual(body["Env"], ["A=1", "PATH=/bin", "HOST=e1"])
        self.assertEqual(body["HostConfig"]["Memory"], 2**62 + 1)  # Python ints stay exact
        self.assertFalse(resp.HasField("name"))

    def test_other_answers(self):
        answers = iter([None, b'{"Image":"x"}', '{"Image":"y"}',
                        v1.RemapContainerResponse(name=""),
                        v1.RemapContainerResponse(body=b"{}", name="renamed")])

        class D(flocker_decider.Decider):
            def remap_container(self, request, context):
                return next(answers)
        stub = self.serve(D())
        resp = stub.RemapContainer(self.remap_request(), timeout=5)
        self.assertEqual(resp.body, b"")
        self.assertFalse(resp.HasField("name"))
        self.assertEqual(stub.RemapContainer(self.remap_request(), timeout=5).body, b'{"Image":"x"}')
        self.assertEqual(stub.RemapContainer(self.remap_request(), timeout=5).body, b'{"Image":"y"}')
        resp = stub.RemapContainer(self.remap_request(), timeout=5)
        self.assertTrue(resp.HasField("name"))
        self.assertEqual(resp.name, "")
        self.assertEqual(stub.RemapContainer(self.remap_request(), timeout=5).name, "renamed")

    def test_error(self):
        class D(flocker_decider.Decider):
            def remap_container(self, request, context):
                raise DecisionError(f"image not allowed on {request.host}")
        stub = self.serve(D())
        self.assertStatus(lambda: stub.RemapContainer(self.remap_request(), timeout=5),
                          grpc.StatusCode.FAILED_PRECONDITION, "image not allowed on e1")


class RegistryAuthTest(DeciderCase):
    def test_answers(self):
        class D(flocker_decider.Decider):
            def registry_auth(self, request, context):
                if request.registry == "docker.io":
                    return None
                if request.registry == "ghcr.io":
                    return v1.RegistryAuthResponse(identity_token="tok")
                return {"username": "u", "password": "p", "server_address": request.registry}
        stub = self.serve(D())
        resp = stub.RegistryAuth(v1.RegistryAuthRequest(registry="127.0.0.1:5000", host="e1"), timeout=5)
        self.assertEqual((resp.username, resp.password, resp.server_address),
                         ("u", "p", "127.0.0.1:5000"))
        self.assertEqual(stub.RegistryAuth(v1.RegistryAuthRequest(registry="docker.io"), timeout=5),
                         v1.RegistryAuthResponse())
        self.assertEqual(stub.RegistryAuth(v1.RegistryAuthRequest(registry="ghcr.io"), timeout=5)
                         .identity_token, "tok")

    def test_error(self):
        class D(flocker_decider.Decider):
            def registry_auth(self, request, context):
                raise DecisionError(f"no credentials for {request.registry}",
                                    grpc.StatusCode.PERMISSION_DENIED)
        stub = self.serve(D())
        self.assertStatus(lambda: stub.RegistryAuth(v1.RegistryAuthRequest(registry="r"), timeout=5),
                          grpc.StatusCode.PERMISSION_DENIED, "no credentials for r")


class AuthorizeTest(DeciderCase):
    def test_answers(self):
        class D(flocker_decider.Decider):
            def authorize(self, request, context):
                if request.endpoint_class == v1.ENDPOINT_CLASS_EXEC:
                    return f"no exec for {request.client.tls_subject}"
                if request.method == "DELETE":
                    return False
                if request.body:
                    return v1.AuthorizeResponse(allow=json.loads(request.body).get("Image") == "ok")
                return True
        stub = self.serve(D())
        exec_req = v1.AuthorizeRequest(method="POST", path="/containers/a/exec",
                                       endpoint_class=v1.ENDPOINT_CLASS_EXEC,
                                       client=v1.Client(tls_subject="CN=bob"))
        self.assertEqual(stub.Authorize(exec_req, timeout=5),
                         v1.AuthorizeResponse(allow=False, message="no exec for CN=bob"))
        self.assertFalse(stub.Authorize(v1.AuthorizeRequest(method="DELETE"), timeout=5).allow)
        self.assertTrue(stub.Authorize(v1.AuthorizeRequest(method="GET"), timeout=5).allow)
        self.assertTrue(stub.Authorize(v1.AuthorizeRequest(method="POST", body=b'{"Image":"ok"}'),
                                       timeout=5).allow)
        self.assertFalse(stub.Authorize(v1.AuthorizeRequest(method="POST", body=b'{"Image":"no"}'),
                                        timeout=5).allow)

    def test_bad_answer_is_internal(self):
        class D(flocker_decider.Decider):
            def authorize(self, request, context):
                return None
        stub = self.serve(D())
        self.assertStatus(lambda: stub.Authorize(v1.AuthorizeRequest(), timeout=5),
                          grpc.StatusCode.INTERNAL)


def make_pki(directory):
    """A CA, a server certificate for 127.0.0.1 and a client certificate, with openssl."""
    import os
    import subprocess

    def run(*args):
        subprocess.run(args, cwd=directory, check=True, capture_output=True)

    def key(name):
        run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-out", name)

    key("ca-key.pem")
    run("openssl", "req", "-x509", "-new", "-key", "ca-key.pem", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=test-ca")
    for name, usage in (("server", "serverAuth"), ("client", "clientAuth")):
        key(f"{name}-key.pem")
        run("openssl", "req", "-new", "-key", f"{name}-key.pem", "-out", f"{name}.csr",
            "-subj", f"/CN={name}")
        with open(os.path.join(directory, f"{name}.ext"), "w") as f:
            f.write(f"subjectAltName=IP:127.0.0.1\nextendedKeyUsage={usage}\n")
        run("openssl", "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey",
            "ca-key.pem", "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext",
            "-out", f"{name}.pem")

    def read(name):
        with open(os.path.join(directory, name), "rb") as f:
            return f.read()
    return {n: read(f"{n}.pem") for n in ("ca", "server", "server-key", "client", "client-key")}


class TlsTest(unittest.TestCase):
    def test_mutual_tls(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            pki = make_pki(d)

        class D(flocker_decider.Decider):
            def authorize(self, request, context):
                return True
        server = flocker_decider.start(D(), "127.0.0.1:0", tls={
            "cert": pki["server"], "key": pki["server-key"], "client_ca": pki["ca"]})
        self.addCleanup(server.stop, 0)
        target = f"127.0.0.1:{server.port}"
        with grpc.secure_channel(target, grpc.ssl_channel_credentials(
                pki["ca"], pki["client-key"], pki["client"])) as ch:
            stub = flocker_decider.decider_pb2_grpc.DeciderStub(ch)
            self.assertTrue(stub.Authorize(v1.AuthorizeRequest(), timeout=5).allow)
        # Without a client certificate the handshake fails: no answer.
        with grpc.secure_channel(target, grpc.ssl_channel_credentials(pki["ca"])) as ch:
            stub = flocker_decider.decider_pb2_grpc.DeciderStub(ch)
            with self.assertRaises(grpc.RpcError) as cm:
                stub.Authorize(v1.AuthorizeRequest(), timeout=5)
            self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAVAILABLE)


class HealthTest(DeciderCase):
    def test_check(self):
        self.serve(flocker_decider.Decider())
        self.assertEqual(health.check(self.channel, ""), health.SERVING)
        self.assertEqual(health.check(self.channel, "flocker.v1.Decider"), health.SERVING)
        with self.assertRaises(grpc.RpcError) as cm:
            health.check(self.channel, "other.Service")
        self.assertEqual(cm.exception.code(), grpc.StatusCode.NOT_FOUND)

    def test_watch_sees_not_serving_then_ends_on_stop(self):
        self.serve(flocker_decider.Decider())
        stream = health.watch(self.channel, "flocker.v1.Decider", timeout=10)
        self.assertEqual(next(stream), health.SERVING)
        unknown = health.watch(self.channel, "other.Service", timeout=10)
        self.assertEqual(next(unknown), health.SERVICE_UNKNOWN)
        stopper = threading.Thread(target=self.server.stop, args=(5,))
        stopper.start()
        self.assertEqual(list(stream), [health.NOT_SERVING])  # then the stream ends cleanly
        self.assertEqual(list(unknown), [])
        stopper.join(10)
        self.assertFalse(stopper.is_alive())

    def test_stop_drains_calls_in_flight(self):
        entered, release = threading.Event(), threading.Event()

        class D(flocker_decider.Decider):
            def list(self, request, context):
                entered.set()
                release.wait(5)
                return ["h:1"]
        stub = self.serve(D())
        future = stub.List.future(v1.ListRequest(), timeout=10)
        self.assertTrue(entered.wait(5))
        stopper = threading.Thread(target=self.server.stop, args=(5,))
        stopper.start()
        release.set()
        self.assertEqual(future.result().hosts[0].name, "h:1")
        stopper.join(10)

    def test_codec(self):
        for service in ("", "flocker.v1.Decider", "x" * 300):
            self.assertEqual(health.decode_request(health.encode_request(service)), service)
        for status in (health.UNKNOWN, health.SERVING, health.NOT_SERVING, health.SERVICE_UNKNOWN):
            self.assertEqual(health.decode_response(health.encode_response(status)), status)
        # unknown fields are skipped
        self.assertEqual(health.decode_request(b"\x10\x05\x0a\x01a\x1d\x00\x00\x00\x00"), "a")


class ServerTest(unittest.TestCase):
    def test_port_in_use_fails(self):
        server = flocker_decider.start(flocker_decider.Decider(), "127.0.0.1:0")
        self.addCleanup(server.stop, 0)
        with self.assertRaisesRegex(RuntimeError, "cannot listen on 127.0.0.1:"):
            flocker_decider.start(flocker_decider.Decider(), f"127.0.0.1:{server.port}")

    def test_stop_is_idempotent(self):
        server = flocker_decider.start(flocker_decider.Decider(), "127.0.0.1:0")
        server.stop(0)
        server.stop(0)
        self.assertTrue(server.wait(1))

    def test_default_name(self):
        self.assertEqual(flocker_decider.default_name("tcp://127.0.0.1:2376"), "127.0.0.1:2376")
        self.assertEqual(flocker_decider.default_name("127.0.0.1:2376"), "127.0.0.1:2376")
        self.assertEqual(flocker_decider.default_name("tcp://h:1/"), "h:1")
        self.assertEqual(flocker_decider.default_name("unix:///var/run/docker.sock"),
                         "/var/run/docker.sock")


if __name__ == "__main__":
    unittest.main()
