"""A run worker's two streams: its connection to the host (`HostLink`: events out, acknowledgements
in) and the capture of what the process prints (`OutputCapture`: descriptors 1 and 2 on pipes, each
line an event, every byte also copied to the compute-log files while Dagster captures logs).

Each worker makes its own of both after it started (a forked worker never shares the agent's), so
sequence numbers, acknowledgements and threads are the worker's alone."""

import contextlib
import json
import os
import select
import socket
import sys
import threading
import time

from _dg_agent import wire
from _dg_agent.protocol import encode_message

# Captured output longer than this without a newline (a progress bar redrawn with `\r`, a binary
# blob) is cut into events of at most this many bytes, so that neither this process nor the host
# holds an unbounded line (Docker's log drivers cut at the same size).
MAX_LINE_BYTES = 16 * 1024
# How long a read of the instance waits for the host to acknowledge one more event before it gives
# up (seconds); `DG_AGENT_ACK_TIMEOUT` overrides it.
ACK_TIMEOUT = 60.0


class HostNotStoring(RuntimeError):
    """The host did not acknowledge the run's events in time, or went away."""


class HostLink:
    """The run's socket: numbers and writes messages from any thread, and reads the host's
    acknowledgements (`stored`) on a thread of its own, so that `wait_stored` can block until every
    event sent so far is stored."""

    def __init__(self, path, ack_timeout=None):
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.connect(path)
        self._lock = threading.Lock()
        self._acked = threading.Condition()
        self._seq = 0
        self.stored_through = 0
        self.closed = False  # the host closed its end (or the connection broke)
        self.broken = False  # a write failed: the host is gone
        if ack_timeout is None:
            ack_timeout = float(os.environ.get("DG_AGENT_ACK_TIMEOUT") or ACK_TIMEOUT)
        self.ack_timeout = ack_timeout
        self._reader = threading.Thread(target=self._read, name="dg-host", daemon=True)
        self._reader.start()

    def _send(self, message):
        data = encode_message(message)
        try:
            self._sock.sendall(data)
        except OSError:
            # The host is gone: keep executing quietly; the run's state is the host's business.
            self.broken = True

    def send(self, message):
        with self._lock:
            self._send(message)

    def event(self, event, dagster=None):
        """Sends one event (with Dagster's text of it, when there is one); returns its number."""
        with self._lock:
            self._seq += 1
            self._send(wire.event_message(self._seq, event, dagster))
            return self._seq

    def _read(self):
        try:
            with self._sock.makefile("rb") as lines:
                for line in lines:
                    try:
                        message = json.loads(line)
                    except ValueError:
                        continue
                    through = wire.stored_through(message)
                    if through is not None:
                        with self._acked:
                            if through > self.stored_through:
                                self.stored_through = through
                                self._acked.notify_all()
        except (OSError, ValueError):
            pass
        with self._acked:
            self.closed = True
            self._acked.notify_all()

    def wait_stored(self):
        """Returns once the host acknowledged every event sent so far; raises `HostNotStoring`
        after `ack_timeout` seconds without one more acknowledgement, or when the host is gone."""
        with self._lock:
            target = self._seq
        with self._acked:
            deadline = time.monotonic() + self.ack_timeout
            seen = self.stored_through
            while self.stored_through < target:
                if self.closed or self.broken:
                    raise HostNotStoring(
                        f"the host closed the run's connection before storing its events "
                        f"(stored through {self.stored_through} of {target})"
                    )
                if self.stored_through > seen:
                    seen = self.stored_through
                    deadline = time.monotonic() + self.ack_timeout
                left = deadline - time.monotonic()
                if left <= 0:
                    raise HostNotStoring(
                        f"the host is not storing events: none acknowledged for "
                        f"{self.ack_timeout:g} s (stored through {self.stored_through} of "
                        f"{target}), so the instance cannot be read"
                    )
                self._acked.wait(left)

    def close(self):
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self._sock.close()
        except OSError:
            pass


class OutputCapture:
    """Redirects fds 1 and 2 to pipes and turns each line into a `STDOUT` / `STDERR` event."""

    def __init__(self, link):
        self._link = link
        self._lock = threading.Lock()
        self._tee = None
        self.step_key = None
        sys.stdout.flush()
        sys.stderr.flush()
        self._saved = {1: os.dup(1), 2: os.dup(2)}
        self._pipes = []
        for fd, kind in ((1, "STDOUT"), (2, "STDERR")):
            r, w = os.pipe()
            os.dup2(w, fd)
            os.close(w)
            os.set_blocking(r, False)
            self._pipes.append({"fd": r, "type": kind, "buf": b""})
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._loop, name="dg-output", daemon=True)
        self._thread.start()

    def _loop(self):
        fds = [p["fd"] for p in self._pipes] + [self._stop_r]
        while True:
            try:
                ready, _, _ = select.select(fds, [], [])
            except InterruptedError:
                continue
            if self._stop_r in ready:
                return
            self.drain()

    def drain(self, final=False):
        with self._lock:
            for pipe in self._pipes:
                while True:
                    try:
                        chunk = os.read(pipe["fd"], 65536)
                    except BlockingIOError:
                        break
                    if not chunk:
                        break
                    if self._tee is not None:
                        self._tee[pipe["type"]].write(chunk)
                    pieces, pipe["buf"] = cut_lines(pipe["buf"] + chunk)
                    self._emit(pipe["type"], pieces)
                if final and pipe["buf"]:
                    self._emit(pipe["type"], [pipe["buf"]])
                    pipe["buf"] = b""

    def _emit(self, kind, pieces):
        for piece in pieces:
            self._link.event(
                wire.output(kind, time.time(), self.step_key, piece.decode("utf-8", "replace"))
            )

    def sync(self):
        """Emits everything printed so far (called before each Dagster event, to keep order)."""
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        self.drain()

    @contextlib.contextmanager
    def tee(self, stdout_path, stderr_path):
        """Also appends every byte printed inside the block to `stdout_path` / `stderr_path` (the
        compute-log files), unbuffered, as it arrives."""
        self.sync()
        files = {}
        try:
            for kind, path in (("STDOUT", stdout_path), ("STDERR", stderr_path)):
                os.makedirs(os.path.dirname(path), exist_ok=True)
                files[kind] = open(path, "ab", buffering=0)  # noqa: SIM115 - closed below
            with self._lock:
                self._tee = files
            yield
        finally:
            self.sync()
            with self._lock:
                self._tee = None
            for f in files.values():
                f.close()

    def stop(self):
        self.sync()
        for fd, saved in self._saved.items():
            os.dup2(saved, fd)
            os.close(saved)
        os.write(self._stop_w, b"x")
        self._thread.join()
        self.drain(final=True)
        for pipe in self._pipes:
            os.close(pipe["fd"])
        os.close(self._stop_r)
        os.close(self._stop_w)


def cut_lines(buf):
    """Splits `buf` into its complete lines (without the newline) and pieces of `MAX_LINE_BYTES` of
    a longer line (cut before a UTF-8 character, never inside one); returns them and what is left
    (shorter than `MAX_LINE_BYTES`, waiting for more output)."""
    pieces = []
    start = 0
    while True:
        newline = buf.find(b"\n", start, start + MAX_LINE_BYTES + 1)
        if newline >= 0:
            pieces.append(buf[start:newline])
            start = newline + 1
        elif len(buf) - start > MAX_LINE_BYTES:
            end = start + MAX_LINE_BYTES
            # Back up over continuation bytes (0b10xxxxxx) to the start of the character.
            while end > start + MAX_LINE_BYTES - 4 and (buf[end] & 0xC0) == 0x80:
                end -= 1
            if (buf[end] & 0xC0) == 0x80:
                end = start + MAX_LINE_BYTES  # not UTF-8 anyway
            pieces.append(buf[start:end])
            start = end
        else:
            return pieces, buf[start:]
