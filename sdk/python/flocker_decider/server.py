"""Running a decider: a gRPC server with flocker.v1.Decider and grpc.health.v1.Health."""
import logging
import signal
import threading
import time
from concurrent import futures

import grpc

from . import health
from ._stubs import decider_pb2_grpc
from .decider import Servicer

log = logging.getLogger("flocker_decider")

SERVICE_NAME = "flocker.v1.Decider"


class Server:
    """A running decider (see start()). Health answers SERVING for "" and
    flocker.v1.Decider until stop() begins."""

    def __init__(self, decider, address="127.0.0.1:7070", max_workers=16, tls=None):
        self.address = address
        self._calls = health.CallTracker()
        self.health = health.HealthService(["", SERVICE_NAME], self._calls)
        # Each open health Watch stream holds a worker thread.
        self._server = grpc.server(futures.ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix="flocker-decider"),
            options=[("grpc.so_reuseport", 0)])  # a second decider on the port must fail
        decider_pb2_grpc.add_DeciderServicer_to_server(Servicer(decider, self._calls),
                                                       self._server)
        self._server.add_generic_rpc_handlers((self.health.handler(),))
        try:
            if tls:
                self.port = self._server.add_secure_port(address, server_credentials(**tls))
            else:
                self.port = self._server.add_insecure_port(address)
        except RuntimeError as e:
            raise RuntimeError(f"cannot listen on {address}: {e}") from e
        if self.port == 0 and not address.startswith("unix:"):
            raise RuntimeError(f"cannot listen on {address}")
        self._stopped = None
        self._lock = threading.Lock()

    def start(self):
        self._server.start()
        log.info("decider listening on %s (port %d)", self.address, self.port)
        return self

    def stop(self, grace=5.0, lame_duck=0.0):
        """Health NOT_SERVING (watchers are told, their streams end), keep serving for
        lame_duck seconds, then give calls in flight `grace` seconds and stop. Idempotent;
        returns once stopped."""
        with self._lock:
            first = self._stopped is None
            if first:
                self._stopped = threading.Event()
        if not first:
            self._stopped.wait()
            return
        self.health.close()
        log.info("decider shutting down: NOT_SERVING, draining for up to %s s", grace)
        if lame_duck:
            time.sleep(lame_duck)
        stopped = self._server.stop(grace)  # refuses new calls from now on
        # gRPC would also wait out the grace for idle client connections (a proxy keeps
        # one open): once no call is in flight, cut them.
        if grace:
            self._calls.wait_idle(grace)
            self._server.stop(0)
        stopped.wait()
        self._stopped.set()

    def wait(self, timeout=None):
        """Blocks until the server has stopped (or timeout); True when stopped."""
        return not self._server.wait_for_termination(timeout)


def server_credentials(cert, key, client_ca=None):
    """TLS for the decider's port, from PEM bytes (or str): its certificate and key; with
    client_ca, every client (the proxy, --decider-tls-cert) must present a certificate that
    CA signed (mutual TLS)."""
    def pem(x):
        return x.encode() if isinstance(x, str) else x
    return grpc.ssl_server_credentials(
        [(pem(key), pem(cert))], root_certificates=pem(client_ca) if client_ca else None,
        require_client_auth=bool(client_ca))


def start(decider, address="127.0.0.1:7070", max_workers=16, tls=None):
    """Starts serving decider on address ("127.0.0.1:7070", "[::1]:0", "unix:/path") and
    returns the Server: .port is the bound port, .stop(grace) stops it. `tls`: a dict of
    server_credentials()' arguments. Raises RuntimeError when the address cannot be bound."""
    return Server(decider, address, max_workers, tls).start()


def serve(decider, address="127.0.0.1:7070", grace=5.0, lame_duck=0.0, on_reload=None,
          max_workers=16, tls=None):
    """Runs decider until SIGINT or SIGTERM, then stops as Server.stop() does. SIGHUP calls
    on_reload(). Returns a process exit code: 0 after a clean stop, 2 when the server could
    not start. Call it from the main thread."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        server = start(decider, address, max_workers, tls)
    except RuntimeError as e:
        log.critical("%s", e)
        return 2
    stop = threading.Event()

    def on_signal(signum, _frame):
        if signum == signal.SIGHUP:
            if on_reload:
                log.info("SIGHUP: reloading")
                on_reload()
            return
        log.info("%s: stopping", signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, on_signal)
                for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        while not stop.wait(1.0):
            pass
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        server.stop(grace, lame_duck)
    return 0
