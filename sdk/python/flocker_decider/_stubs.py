"""Finds the flocker.v1 stubs (generated, never committed).

Installed (pip install ./sdk/python): setup.py generated them into flocker_decider._proto.
In this repository they live in ${BUILD_DIR}/sdk/python/gen (cmake target flocker_python_stubs)
as the package flocker.v1: put that directory on PYTHONPATH; failing that, $FLOCKER_PYTHON_GEN
and the repository's build/sdk/python/gen are tried.
"""
import os
import sys

try:
    from ._proto import decider_pb2, decider_pb2_grpc
except ModuleNotFoundError as _missing:
    if _missing.name != f"{__package__}._proto":
        raise
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
                "flocker_decider: the flocker.v1 Python stubs are missing; pip install ./sdk/python, "
                "or build them with `cmake --build build --target flocker_python_stubs` and put "
                f"build/sdk/python/gen on PYTHONPATH (tried {', '.join(_tried) or 'nothing'}): {e}") from e

__all__ = ["decider_pb2", "decider_pb2_grpc"]
