"""The Decider base class, its errors, and the adapter to the generated gRPC servicer."""
import json
import logging
import re

import grpc

from ._stubs import decider_pb2 as v1
from ._stubs import decider_pb2_grpc

log = logging.getLogger("flocker_decider")

NO_OPINION_MESSAGE = "no opinion: the decider does not implement this"


class DecisionError(Exception):
    """Refuse an operation: the proxy shows `message` to the docker user.

    The default code, FAILED_PRECONDITION, suits "no host can take this"; pick another
    grpc.StatusCode when it says more (RESOURCE_EXHAUSTED, PERMISSION_DENIED, ...).
    """

    def __init__(self, message, code=grpc.StatusCode.FAILED_PRECONDITION):
        super().__init__(message)
        self.message = message
        self.code = code


class NoOpinion(DecisionError):
    """Answer UNIMPLEMENTED: the proxy does what it does without a decider's opinion."""

    def __init__(self, message=NO_OPINION_MESSAGE):
        super().__init__(message, grpc.StatusCode.UNIMPLEMENTED)


class Decider:
    """Base class of a decider: override the RPCs you have an opinion on.

    Each method gets the protobuf request (flocker_decider.v1.*Request) and the
    grpc.ServicerContext, and returns the protobuf response or one of the conveniences
    below. The defaults raise NoOpinion (UNIMPLEMENTED). Methods run concurrently on the
    server's worker threads: guard shared state. Raise DecisionError to refuse with a
    message; any other exception answers INTERNAL with its message (and is logged).
    """

    def list(self, request, context):
        """ListResponse, or a list of hosts: Host messages, address strings,
        (name, address[, labels]) tuples or {"name", "address", "labels"} dicts."""
        raise NoOpinion()

    def route(self, request, context):
        """RouteResponse, a host name, a Candidate, or a list of names/Candidates."""
        raise NoOpinion()

    def remap_container(self, request, context):
        """RemapContainerResponse, the new create body as a dict (or JSON bytes/str), or
        None to forward the body unchanged."""
        raise NoOpinion()

    def registry_auth(self, request, context):
        """RegistryAuthResponse, a dict of its fields, or None for no credentials."""
        raise NoOpinion()

    def authorize(self, request, context):
        """Asked only by a proxy run with --authorize (which refuses when there is no
        answer): AuthorizeResponse, True to allow, False to deny, or a string to deny with
        that message for the docker user."""
        raise NoOpinion()


def default_name(address):
    """A host's default name: its address without the scheme, as the C++ SDK does.
    "tcp://127.0.0.1:2376" -> "127.0.0.1:2376"; "unix:///run/d.sock" -> "/run/d.sock"."""
    text = str(address).strip()
    m = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", text)
    if m and m.group(1).lower() == "unix":
        return text[m.end():]
    rest = text[m.end():] if m else text
    return rest[:-1] if rest.endswith("/") else rest


# ---------------------------------------------------------------------------------------
# Conveniences -> responses.

def _host(item):
    if isinstance(item, v1.Host):
        return item
    if isinstance(item, str):
        return v1.Host(name=default_name(item), address=item.strip())
    if isinstance(item, dict):
        item = (item.get("name") or default_name(item["address"]), item["address"],
                item.get("labels") or {})
    if isinstance(item, (tuple, list)) and len(item) in (2, 3):
        labels = {str(k): str(v) for k, v in (item[2] if len(item) == 3 else {}).items()}
        return v1.Host(name=item[0], address=item[1], labels=labels)
    raise TypeError(f"list(): a host must be a Host, an address, (name, address[, labels]) "
                    f"or a dict, not {item!r}")


def to_list_response(result):
    if isinstance(result, v1.ListResponse):
        return result
    if result is None:
        raise TypeError("list() returned None")
    return v1.ListResponse(hosts=[_host(h) for h in result])


def to_route_response(result):
    if isinstance(result, v1.RouteResponse):
        return result
    if isinstance(result, (str, v1.Candidate)):
        result = [result]
    if not isinstance(result, (list, tuple)):
        raise TypeError(f"route() returned {result!r}; return a host name, a list of names "
                        "or a RouteResponse")
    return v1.RouteResponse(hosts=[h.name if isinstance(h, v1.Candidate) else str(h)
                                   for h in result])


def to_remap_response(result):
    if isinstance(result, v1.RemapContainerResponse):
        return result
    if result is None:
        return v1.RemapContainerResponse()
    if isinstance(result, dict):
        return v1.RemapContainerResponse(body=json.dumps(result).encode())
    if isinstance(result, str):
        result = result.encode()
    if isinstance(result, (bytes, bytearray)):
        return v1.RemapContainerResponse(body=bytes(result))
    raise TypeError(f"remap_container() returned {result!r}; return a dict, JSON bytes, "
                    "None or a RemapContainerResponse")


def to_registry_auth_response(result):
    if isinstance(result, v1.RegistryAuthResponse):
        return result
    if result is None:
        return v1.RegistryAuthResponse()
    if isinstance(result, dict):
        return v1.RegistryAuthResponse(**result)
    raise TypeError(f"registry_auth() returned {result!r}; return a dict, None or a "
                    "RegistryAuthResponse")


def to_authorize_response(result):
    if isinstance(result, v1.AuthorizeResponse):
        return result
    if result is True:
        return v1.AuthorizeResponse(allow=True)
    if result is False:
        return v1.AuthorizeResponse(allow=False)
    if isinstance(result, str):
        return v1.AuthorizeResponse(allow=False, message=result)
    raise TypeError(f"authorize() returned {result!r}; return True, False, a denial message "
                    "or an AuthorizeResponse")


# ---------------------------------------------------------------------------------------

class Servicer(decider_pb2_grpc.DeciderServicer):
    """Adapts a Decider to the generated service: conveniences, errors, logging."""

    def __init__(self, decider, tracker=None):
        self._decider = decider
        self._tracker = tracker

    def _call(self, rpc, method, convert, request, context):
        if self._tracker is None:
            return self._answer(rpc, method, convert, request, context)
        with self._tracker:
            return self._answer(rpc, method, convert, request, context)

    def _answer(self, rpc, method, convert, request, context):
        try:
            return convert(method(request, context))
        except DecisionError as e:
            code, message = e.code, e.message
        except Exception as e:  # a bug in the decider must reach the user as a message
            aborted = getattr(context, "code", None)
            if callable(aborted) and aborted() not in (None, grpc.StatusCode.OK):
                raise  # the handler called context.abort() itself
            log.exception("%s: handler raised", rpc)
            code, message = grpc.StatusCode.INTERNAL, f"{rpc} failed in the decider: {e}"
        if code != grpc.StatusCode.UNIMPLEMENTED:
            log.info("%s: answered %s: %s", rpc, code.name, message)
        context.abort(code, message)

    def List(self, request, context):
        return self._call("List", self._decider.list, to_list_response, request, context)

    def Route(self, request, context):
        return self._call("Route", self._decider.route, to_route_response, request, context)

    def RemapContainer(self, request, context):
        return self._call("RemapContainer", self._decider.remap_container, to_remap_response,
                          request, context)

    def RegistryAuth(self, request, context):
        return self._call("RegistryAuth", self._decider.registry_auth,
                          to_registry_auth_response, request, context)

    def Authorize(self, request, context):
        return self._call("Authorize", self._decider.authorize, to_authorize_response,
                          request, context)
