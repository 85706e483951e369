"""Finds the flocker.v1 stubs that the build generates (never committed).

They live in ${BUILD_DIR}/sdk/python/gen (cmake target flocker_python_stubs). Put that
directory on PYTHONPATH; failing that, $FLOCKER_PYTHON_GEN and the repository's
build/sdk/python/gen are tried.
"""
import os
import sys

try:
    from flocker.v1 import decider_pb2, decider_pb2_grpc
except ImportError:
    _repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    _tried = [p for p in (os.environ.get("FLOCKER_PYTHON_GEN"),
                          os.path.join(_repo, "build", "sdk", "python", "gen")) if p]
    for _dir in _tried:
        if os.path.isfile(os.path.join(_dir, "flocker", "v1", "decider_pb2.py")):
            sys.path.append(_dir)
            break
    try:
        from flocker.v1 import decider_pb2, decider_pb2_grpc
    except ImportError as e:
        raise ImportError(
            "flocker_decider: the flocker.v1 Python stubs are missing; build them with "
            "`cmake --build build --target flocker_python_stubs` and put build/sdk/python/gen "
            f"on PYTHONPATH (tried {', '.join(_tried) or 'nothing'}): {e}") from e

__all__ = ["decider_pb2", "decider_pb2_grpc"]
