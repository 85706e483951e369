"""flocker_decider: write a flocker decider in Python.

    import flocker_decider
    from flocker_decider import v1

    class MyDecider(flocker_decider.Decider):
        def route(self, request, context):
            return [c.name for c in request.candidates if c.healthy][:1]

    flocker_decider.serve(MyDecider(), "127.0.0.1:7070")

Override only the RPCs you have an opinion on; the others answer UNIMPLEMENTED, which the
proxy reads as "no opinion" (see proto/flocker/v1/decider.proto).
"""
from . import health
from ._stubs import decider_pb2 as v1
from ._stubs import decider_pb2_grpc
from .decider import (Decider, DecisionError, NoOpinion, NO_OPINION_MESSAGE, Servicer,
                      default_name)
from .server import SERVICE_NAME, Server, serve, server_credentials, start

__all__ = ["Decider", "DecisionError", "NoOpinion", "NO_OPINION_MESSAGE", "Server",
           "SERVICE_NAME", "Servicer", "decider_pb2_grpc", "default_name", "health", "serve",
           "server_credentials", "start", "v1"]
