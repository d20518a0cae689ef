"""Python exceptions as the host shows them (`crates/dg-location/src/traceback.rs`): each frame
with its origin (user code, dagster, importlib or this agent), causes, syntax error positions."""

import os
import sys
import traceback

MAX_CAUSES = 5
# Frames in this package's files are the agent's own (folded away unless verbose).
AGENT_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class DefinitionsNotFound(Exception):
    """The target module has no definitions Dagster could load."""


def _frame_origin(filename, system_dirs):
    if filename.startswith(AGENT_DIR):
        return "agent"
    if filename.startswith("<frozen importlib") or "/importlib/" in filename:
        return "importlib"
    if any(filename.startswith(d) for d in system_dirs):
        return "dagster"
    return "user"


def _system_dirs():
    dirs = []
    for name in ("dagster", "dagster_shared", "dagster_pipes", "pydantic", "dagster_dg_core"):
        module = sys.modules.get(name)
        file = getattr(module, "__file__", None)
        if file:
            dirs.append(os.path.dirname(os.path.abspath(file)) + os.sep)
    return dirs


def error_info(exc, depth=0):
    system_dirs = _system_dirs()
    frames = []
    for fs in traceback.extract_tb(exc.__traceback__):
        frames.append(
            {
                "file": fs.filename,
                "line": fs.lineno or 0,
                "function": fs.name,
                "code": fs.line or None,
                "origin": _frame_origin(fs.filename, system_dirs),
            }
        )
    cls = type(exc)
    exc_type = cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    if isinstance(exc, SyntaxError):
        kind = "syntax"
    elif isinstance(exc, ModuleNotFoundError):
        kind = "missing_module"
    elif isinstance(exc, ImportError):
        kind = "import"
    elif isinstance(exc, DefinitionsNotFound):
        kind = "no_definitions"
    else:
        kind = "exception"
    info = {
        "kind": kind,
        "exc_type": exc_type,
        "message": exc.msg if isinstance(exc, SyntaxError) else str(exc),
        "frames": frames,
        "module_name": getattr(exc, "name", None) if isinstance(exc, ImportError) else None,
        "syntax": None,
        "cause": None,
    }
    if isinstance(exc, SyntaxError):
        info["syntax"] = {
            "file": exc.filename or "",
            "line": exc.lineno or 0,
            "offset": exc.offset,
            "end_offset": getattr(exc, "end_offset", None),
            "text": exc.text.rstrip("\n") if exc.text else None,
        }
    cause = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    if cause is not None and depth < MAX_CAUSES:
        info["cause"] = error_info(cause, depth + 1)
    return info
