"""The agent's request loop: answers the host's requests one at a time until `shutdown` or the end
of the channel."""

import os
import platform
import sys

from _dg_agent import load, run
from _dg_agent.errors import error_info
from _dg_agent.protocol import PROTOCOL_VERSION, Channel

# What the agent keeps between requests: the loaded definitions (`defs`), the run instances made
# ahead of forked runs (`instances`), whether it warmed up (`warm`).
STATE = {}


def main():
    fd = int(os.environ.pop("DG_AGENT_FD", "3"))
    channel = Channel(fd)
    channel.send(
        {
            "type": "ready",
            "pid": os.getpid(),
            "python_version": platform.python_version(),
            "python_executable": sys.executable,
        }
    )
    for request in channel.requests():
        rid = request.get("id")
        kind = request.get("type")
        if kind == "ping":
            channel.send({"id": rid, "type": "pong"})
        elif kind == "load":
            channel.send(dict(load.handle_load(request.get("target") or {}, STATE), id=rid))
            release_memory()
        elif kind in ("execute_run", "fork_run", "warm_up"):
            channel.send(dict(handle_run(kind, request, channel), id=rid))
            if kind == "warm_up":
                release_memory()
        elif kind == "shutdown":
            channel.send({"id": rid, "type": "bye"})
            break
        else:
            channel.send(
                {"id": rid, "type": "unsupported", "request": str(kind), "protocol": PROTOCOL_VERSION}
            )
    sys.stdout.flush()
    sys.stderr.flush()
    # The host is gone or said goodbye: exit now, without waiting for threads user code started.
    os._exit(0)


def release_memory():
    """Gives the heap that loading freed back to the system: an agent lives as long as `dg dev`,
    and glibc keeps freed memory (the snapshot, import garbage) resident otherwise."""
    import gc

    gc.collect()
    try:
        import ctypes

        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


def handle_run(kind, request, channel):
    try:
        if kind == "warm_up":
            return run.warm_up(STATE, request)
        return run.handle(kind, request, STATE, channel)
    except Exception as exc:  # noqa: BLE001 - reported to the host, the agent keeps serving
        return {"type": "run_rejected", "error": error_info(exc)}
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
