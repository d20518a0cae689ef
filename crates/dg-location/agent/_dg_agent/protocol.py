"""The host-agent channel: JSON objects, one per line, each with the protocol version `v`, on a
private Unix socket (see `crates/dg-location/src/protocol.rs`, the source of truth)."""

import fcntl
import json
import math
import os
import socket

PROTOCOL_VERSION = 1
SNAPSHOT_SCHEMA_VERSION = 2
# The channel is moved to the lowest free descriptor at or above this (or half the descriptor
# limit, when that is lower): out of the range user code opens, closes or writes by number.
PRIVATE_FD_MIN = 1000


class Channel:
    """The host's channel, kept out of user code's reach.

    The host hands the channel over at a well-known descriptor (3). User code runs in this process
    and may write to descriptor 3 (or close it) for its own reasons, so before any user code is
    imported the channel moves to a private, close-on-exec descriptor far above the ones user code
    opens, and `/dev/null` takes its old number: what user code writes there goes nowhere and
    subprocesses inherit nothing of the channel."""

    def __init__(self, fd):
        private = _private_fd(fd)
        null = os.open(os.devnull, os.O_RDWR)
        try:
            os.dup2(null, fd, inheritable=False)
        finally:
            os.close(null)
        self._sock = socket.socket(fileno=private)
        self._rfile = self._sock.makefile("rb")

    def send(self, message):
        message["v"] = PROTOCOL_VERSION
        self._sock.sendall(encode_message(message))

    def close(self):
        self._rfile.close()
        self._sock.close()

    def requests(self):
        for line in self._rfile:
            line = line.strip()
            if line:
                yield json.loads(line)


def _private_fd(fd):
    """A close-on-exec duplicate of `fd` at a high number (see `PRIVATE_FD_MIN`)."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        floor = PRIVATE_FD_MIN if soft == resource.RLIM_INFINITY else min(PRIVATE_FD_MIN, soft // 2)
        private = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, max(floor, fd + 1))
    except (OSError, ValueError, ImportError):
        private = os.dup(fd)  # close-on-exec too (PEP 446); just not as far out of the way
    return private


# ---------------------------------------------------------------------------------------------
# Encoding


def encode_message(message):
    """One message as a JSON line, in UTF-8, that a strict JSON parser (the host's) reads.

    Python's `json` writes `NaN` and `Infinity`, which JSON has no word for, and escapes a lone
    surrogate (a string decoded with `surrogateescape`, half of an emoji) as `\\udcxx`, which is not
    text at all. Such messages are encoded a second time with these values as Dagster shows them:
    a non-finite float as its `str()` (`nan`, `inf`, `-inf`), a lone surrogate as U+FFFD."""
    try:
        text = json.dumps(
            message, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=str
        )
        data = text.encode("utf-8")
    except ValueError:  # NaN or Infinity, or (UnicodeEncodeError) a lone surrogate
        text = json.dumps(
            _plain(message), separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
        data = text.encode("utf-8")
    return data + b"\n"


def _plain(value, depth=0):
    """`value` with every float finite and every string valid Unicode (see `encode_message`)."""
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(float(value))
    if value is None or isinstance(value, (bool, int)):
        return value
    if depth > 64:
        return _text(str(value))
    if isinstance(value, dict):
        return {
            _text(k if isinstance(k, str) else str(_plain(k, depth + 1))): _plain(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_plain(v, depth + 1) for v in value]
    return _text(str(value))


def _text(s):
    """`s` as valid Unicode: surrogate pairs joined, lone surrogates replaced by U+FFFD."""
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return s.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def jsonable(value, depth=0):
    """`value` as plain JSON values (lists, objects, scalars; anything else as its `str()`)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if depth > 6:
        return str(value)
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return [jsonable(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v, depth + 1) for k, v in value.items()}
    return str(value)
