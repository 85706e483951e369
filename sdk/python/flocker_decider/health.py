"""The standard gRPC health service (grpc.health.v1.Health), without grpc_health.

Debian's python3-grpcio does not ship grpc_health, so the two tiny messages are encoded by
hand: HealthCheckRequest {string service = 1}, HealthCheckResponse {ServingStatus status = 1}.
"""
import threading

import grpc

SERVICE = "grpc.health.v1.Health"
UNKNOWN, SERVING, NOT_SERVING, SERVICE_UNKNOWN = 0, 1, 2, 3
STATUS_NAMES = {UNKNOWN: "UNKNOWN", SERVING: "SERVING", NOT_SERVING: "NOT_SERVING",
                SERVICE_UNKNOWN: "SERVICE_UNKNOWN"}


def _varint(data, i):
    value = shift = 0
    while True:
        if i >= len(data):
            raise ValueError("truncated varint")
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, i
        shift += 7


def _put_varint(value):
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        out.append(b | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field1(data, wire_type):
    """The last value of field 1 (of the given wire type) in a message, or None."""
    found, i = None, 0
    while i < len(data):
        key, i = _varint(data, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(data, i)
        elif wire == 1:
            value, i = None, i + 8
        elif wire == 2:
            n, i = _varint(data, i)
            value, i = data[i:i + n], i + n
        elif wire == 5:
            value, i = None, i + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        if field == 1 and wire == wire_type:
            found = value
    return found


def decode_request(data):
    service = _field1(data, 2)
    return service.decode("utf-8") if service is not None else ""


def encode_request(service):
    raw = service.encode("utf-8")
    return b"\x0a" + _put_varint(len(raw)) + raw if raw else b""


def decode_response(data):
    status = _field1(data, 0)
    return status or UNKNOWN


def encode_response(status):
    return b"\x08" + _put_varint(status) if status else b""


class CallTracker:
    """Counts calls in flight, so that a stop can wait for them and no longer."""

    def __init__(self):
        self._cond = threading.Condition()
        self._count = 0

    def __enter__(self):
        with self._cond:
            self._count += 1

    def __exit__(self, *exc):
        with self._cond:
            self._count -= 1
            self._cond.notify_all()

    def wait_idle(self, timeout):
        with self._cond:
            return self._cond.wait_for(lambda: self._count == 0, timeout)


class HealthService:
    """Serving status per service name, with Check and Watch handlers."""

    def __init__(self, services, tracker=None):
        self._tracker = tracker or CallTracker()
        self._cond = threading.Condition()
        self._statuses = {name: SERVING for name in services}
        self._closing = False

    def set_all(self, status):
        with self._cond:
            for name in self._statuses:
                self._statuses[name] = status
            self._cond.notify_all()

    def close(self):
        """Every service NOT_SERVING; open Watch streams send it, then end."""
        with self._cond:
            for name in self._statuses:
                self._statuses[name] = NOT_SERVING
            self._closing = True
            self._cond.notify_all()

    def status(self, service):
        with self._cond:
            return self._statuses.get(service)

    def check(self, service, context):
        with self._tracker:
            status = self.status(service)
            if status is None:
                context.abort(grpc.StatusCode.NOT_FOUND, f"unknown service {service}")
            return status

    def watch(self, service, context):
        with self._tracker:
            yield from self._watch(service, context)

    def _watch(self, service, context):
        def wake():
            with self._cond:
                self._cond.notify_all()
        context.add_callback(wake)
        last = None
        while context.is_active():
            with self._cond:
                status = self._statuses.get(service, SERVICE_UNKNOWN)
                closing = self._closing
                if status == last and not closing:
                    self._cond.wait(timeout=1.0)
                    continue
            if status != last:
                last = status
                yield status
            if closing:
                return

    def handler(self):
        return grpc.method_handlers_generic_handler(SERVICE, {
            "Check": grpc.unary_unary_rpc_method_handler(
                self.check, request_deserializer=decode_request,
                response_serializer=encode_response),
            "Watch": grpc.unary_stream_rpc_method_handler(
                self.watch, request_deserializer=decode_request,
                response_serializer=encode_response),
        })


def check(channel, service="", timeout=5.0):
    """Client side: the status (SERVING, ...) of service on a channel."""
    call = channel.unary_unary(f"/{SERVICE}/Check", request_serializer=encode_request,
                               response_deserializer=decode_response)
    return call(service, timeout=timeout)


def watch(channel, service="", timeout=None):
    """Client side: an iterator of statuses, as the server reports changes."""
    call = channel.unary_stream(f"/{SERVICE}/Watch", request_serializer=encode_request,
                                response_deserializer=decode_response)
    return call(service, timeout=timeout)
