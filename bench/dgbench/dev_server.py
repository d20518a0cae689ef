"""A long-lived server under test (`dg dev`): started in its own session, watched, stopped.

`Server(cmd, cwd, env)` starts the command as the leader of a new session (so its process group
holds everything it starts), with a fresh, empty `DAGSTER_HOME` of its own (or the instance home it is given) and its output
in a temporary file. `stop()` asks it to end (`SIGTERM` to the leader, as a supervisor would), waits
`STOP_GRACE` seconds, then `SIGKILL`s its process group and every descendant seen meanwhile
(forked run workers lead their own groups), and removes the instance folder it made: nothing
outlives a measurement.

`tree_memory(pid)` sums RSS and PSS (from `/proc/<pid>/smaps_rollup`, the proportional share of
pages shared between processes) over the process and all its descendants; `tree_cpu(pid)` sums
their user + system time, including children they reaped.

`http_json(url, body)` does one GET (no body) or POST of JSON and returns the decoded answer.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Mapping, Optional

from .measure import _children, _rss_kib

STOP_GRACE = 15.0
_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(root: int) -> list:
    """`root` and all its living descendants."""
    out, stack, seen = [], [root], set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        out.append(pid)
        stack.extend(_children(pid))
    return out


def _start_time(pid: int) -> Optional[int]:
    """When `pid` started (clock ticks since boot), to tell it from a later process given its id."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def tree_memory(root: int) -> tuple:
    """`(rss_kib, pss_kib, processes)` summed over `root` and its descendants."""
    pids = descendants(root)
    return sum(_rss_kib(p) for p in pids), sum(_pss_kib(p) for p in pids), len(pids)


def tree_cpu(root: int) -> float:
    """CPU seconds (user + system, with reaped children) of `root` and its living descendants."""
    total = 0
    for pid in descendants(root):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15])
        except (OSError, ValueError, IndexError):
            continue
    return total / _TICKS


def http_json(url: str, body: Optional[dict] = None, timeout: float = 30.0):
    """GET `url` (or POST `body` as JSON) and decode the JSON answer; raises `OSError` on failure."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read().decode() or "null")
    except urllib.error.HTTPError as e:
        detail = e.read().decode(errors="replace")[:500]
        raise OSError(f"HTTP {e.code} from {url}: {detail}") from e
    except (urllib.error.URLError, ConnectionError, socket.timeout, ValueError) as e:
        raise OSError(f"{url}: {e}") from e


class Server:
    """One server process tree under test (see the module doc)."""

    def __init__(self, cmd: list, cwd: Path, env: Mapping[str, str],
                 home: Optional[Path] = None) -> None:
        # A given home (an instance a case prepared) is the caller's: `stop` leaves it.
        self.owns_home = home is None
        self.home = Path(tempfile.mkdtemp(prefix="dg-bench-dev-home-")) if home is None else home
        self.log = tempfile.TemporaryFile()
        self.seen: dict = {}
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd, cwd=cwd, env=dict(env, DAGSTER_HOME=str(self.home)),
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def elapsed(self) -> float:
        """Seconds since the process was started."""
        return time.perf_counter() - self.started

    def alive(self) -> bool:
        """Whether the leader still runs."""
        return self.proc.poll() is None

    def remember_tree(self) -> None:
        """Notes every current descendant, so `stop` kills even those that left the group."""
        for pid in descendants(self.pid):
            self.seen.setdefault(pid, _start_time(pid))

    def output_tail(self, lines: int = 5) -> str:
        """The last lines the server printed."""
        self.log.seek(0)
        text = self.log.read().decode(errors="replace").strip().splitlines()
        return " | ".join(text[-lines:]) if text else "(no output)"

    def stop(self) -> None:
        """Ends the whole tree (see the module doc) and removes the instance folder."""
        self.remember_tree()
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_GRACE)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for pid, started in self.seen.items():
            if pid == self.pid or started is None or _start_time(pid) != started:
                continue
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.proc.wait()
        self.log.close()
        if self.owns_home:
            shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
