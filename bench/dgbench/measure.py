"""Timing and memory of one command, run repeatedly.

`measure(cmd, cwd, runs)` runs a command `runs` times (after one untimed warm-up run whose
output is kept for checking) and returns a `Measurement`: median, min and max wall time and the
peak resident memory of the whole process tree. `measure_interleaved` does the same for several
commands at once, interleaving their timed runs so that load from elsewhere on a shared machine
falls on every side alike. CPU time (user + system) is kept too: it moves less than wall time
when other work competes for the cores.

Wall time is taken around spawn-and-wait in this process, so it includes the cost of
`fork`/`exec` from Python (about a millisecond; `measure_floor()` measures it with `/bin/true`
so a report can show it). Output goes to `/dev/null` during timed runs, for every tool alike.

Peak RSS of the tree is measured in the untimed warm-up run (and in timed runs when asked for
with `sample_tree=True`, for long-lived commands). It is the larger of two numbers:
* the peak RSS of the command's own process (and of the largest descendant it waited for), as
  reported by GNU `time` (`/usr/bin/time -f %M`) wrapped around it. The kernel's `ru_maxrss` of a
  child spawned straight from this harness would include this Python process's memory (it is
  recorded at `exec`), so `time`, a small C program, does the spawning. Without `/usr/bin/time`
  (Debian package `time`) only sampling is used;
* the largest sum of RSS over the command and all its descendants, sampled from `/proc` every
  `SAMPLE_INTERVAL` seconds by a background thread (catches `dg -> uv -> python` chains and
  servers with workers; misses processes that live shorter than one interval).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Sequence

SAMPLE_INTERVAL = 0.02
_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass
class RunOutput:
    """What the untimed warm-up run printed, and how it exited."""

    exit_code: int
    stdout: str
    stderr: str


@dataclass
class Measurement:
    """Wall times (seconds) of the timed runs and the peak RSS (KiB) of the process tree."""

    times: list[float]
    peak_rss_kib: int
    first: RunOutput
    failed_runs: int = 0
    cpu_times: list[float] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the warm-up and every timed run exited 0."""
        return self.first.exit_code == 0 and self.failed_runs == 0

    @property
    def median(self) -> float:
        """Median wall time in seconds."""
        return statistics.median(self.times)

    @property
    def cpu_median(self) -> float:
        """Median CPU time (user + system, of the process and the children it waited for)."""
        return statistics.median(self.cpu_times) if self.cpu_times else 0.0

    @property
    def min(self) -> float:
        """Fastest run in seconds."""
        return min(self.times)

    @property
    def max(self) -> float:
        """Slowest run in seconds."""
        return max(self.times)


def _children(pid: int) -> list[int]:
    """Direct children of `pid`, read from every thread's `children` file."""
    kids: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids.extend(int(p) for p in f.read().split())
        except OSError:
            continue
    return kids


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * _PAGE_KB
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss_kib(root: int) -> int:
    """Sum of the RSS of `root` and all its living descendants, in KiB."""
    total, stack, seen = 0, [root], set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += _rss_kib(pid)
        stack.extend(_children(pid))
    return total


class _TreeSampler(threading.Thread):
    """Samples the RSS of a process tree until `stop()`; keeps the peak."""

    def __init__(self, root: int, skip_root: bool = False) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.skip_root = skip_root
        self.peak = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            if self.skip_root:
                rss = sum(tree_rss_kib(kid) for kid in _children(self.root))
            else:
                rss = tree_rss_kib(self.root)
            self.peak = max(self.peak, rss)
            self._stop_event.wait(SAMPLE_INTERVAL)

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        return self.peak


@dataclass
class _OneRun:
    seconds: float
    exit_code: int
    peak_rss_kib: int
    cpu_seconds: float


GNU_TIME = "/usr/bin/time"


def run_once(
    cmd: Sequence[str],
    cwd: Path,
    env: Optional[Mapping[str, str]] = None,
    sample_tree: bool = True,
    capture: Optional[list] = None,
) -> _OneRun:
    """Runs `cmd` once in `cwd`; see the module doc for what is measured.

    With `capture` (a list), stdout and stderr are appended to it and the peak RSS is taken
    through GNU `time`; without, output goes to /dev/null and nothing wraps the command, so
    the wall time is the command's own. `peak_rss_kib` is 0 when nothing measured it.
    """
    use_time = capture is not None and os.access(GNU_TIME, os.X_OK)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(mode="r") as rss:
        sinks = (out, err) if capture is not None else (subprocess.DEVNULL, subprocess.DEVNULL)
        argv = [GNU_TIME, "-q", "-f", "%M", "-o", rss.name, *cmd] if use_time else list(cmd)
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=sinks[0],
            stderr=sinks[1],
        )
        sampler = _TreeSampler(proc.pid, skip_root=use_time) if sample_tree else None
        if sampler:
            sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        proc.returncode = code  # reaped here; tell Popen so it does not wait again
        peak = sampler.stop() if sampler else 0
        if use_time:
            peak = max(peak, _time_rss(rss.read()))
        if capture is not None:
            for sink in (out, err):
                sink.seek(0)
                capture.append(sink.read().decode(errors="replace"))
    return _OneRun(elapsed, code, peak, usage.ru_utime + usage.ru_stime)


def _time_rss(text: str) -> int:
    """The `%M` (KiB) that GNU time wrote; its last line, as it may prefix a status line."""
    lines = text.strip().splitlines()
    try:
        return int(lines[-1]) if lines else 0
    except ValueError:
        return 0


def measure(
    cmd: Sequence[str],
    cwd: Path,
    runs: int,
    env: Optional[Mapping[str, str]] = None,
    sample_tree: bool = False,
) -> Measurement:
    """Runs `cmd` once untimed (output and peak RSS kept), then `runs` times timed."""
    return measure_interleaved([(cmd, runs)], cwd, env, sample_tree)[0]


def _schedule(counts: Sequence[int]) -> list[int]:
    """Side indices in run order, each side's runs spread evenly over the whole sequence.

    `[2, 6]` gives `[1, 0, 1, 1, 1, 0, 1, 1]`-like orders: on a noisy machine a burst of load
    then slows both sides alike instead of only the one that happened to be running.
    """
    slots = [((j + 0.5) / n, i) for i, n in enumerate(counts) for j in range(n)]
    return [i for _, i in sorted(slots)]


def measure_interleaved(
    sides: Sequence[tuple],
    cwd: Path,
    env: Optional[Mapping[str, str]] = None,
    sample_tree: bool = False,
) -> list[Measurement]:
    """Measures several `(cmd, runs)` sides in `cwd`, their timed runs interleaved.

    Each side first gets its untimed run (output and peak RSS kept); then all timed runs
    follow in the order of `_schedule`. Returns one `Measurement` per side, in order.
    A `cmd` may be a function of the run number (0 for the untimed run, then 1, 2, ...)
    returning the command, for commands that need a fresh argument each time (a new path).
    """

    def argv(i: int, n: int) -> Sequence[str]:
        cmd = sides[i][0]
        return cmd(n) if callable(cmd) else cmd

    firsts, peaks = [], []
    for i in range(len(sides)):
        captured: list[str] = []
        warm = run_once(argv(i, 0), cwd, env, sample_tree=True, capture=captured)
        firsts.append(RunOutput(warm.exit_code, captured[0], captured[1]))
        peaks.append(warm.peak_rss_kib)
    times: list[list[float]] = [[] for _ in sides]
    cpu: list[list[float]] = [[] for _ in sides]
    failed = [0 for _ in sides]
    for i in _schedule([max(runs, 1) for _, runs in sides]):
        one = run_once(argv(i, len(times[i]) + 1), cwd, env, sample_tree=sample_tree)
        times[i].append(one.seconds)
        cpu[i].append(one.cpu_seconds)
        peaks[i] = max(peaks[i], one.peak_rss_kib)
        failed[i] += one.exit_code != 0
    return [
        Measurement(times=times[i], peak_rss_kib=peaks[i], first=firsts[i],
                    failed_runs=failed[i], cpu_times=cpu[i])
        for i in range(len(sides))
    ]


def measure_floor(runs: int = 30) -> Measurement:
    """The cost of spawning and reaping a trivial process (`/bin/true`) from this harness."""
    return measure(["/bin/true"], Path("/"), runs)
