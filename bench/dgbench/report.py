"""The results as markdown: a header naming the machine and the command, then one table.

The table has one row per case and size: median (min-max) wall time of each side, the ratio of
the medians (real / ours, so "120x" means ours is 120 times faster), the same ratio of median
CPU time (user + system), peak RSS of each side's process tree, and whether the case's target
(on wall time) was met. Notes follow the table.
"""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import subprocess
import sys
from typing import Optional

from .cases import Row
from .measure import Measurement
from .tools import REPO, Tools


def fmt_seconds(s: float) -> str:
    """`0.0012` -> `1.20 ms`, `0.25` -> `250 ms`, `1.5` -> `1.50 s`."""
    if s < 0.009995:
        return f"{s * 1000:.2f} ms"
    if s < 0.9995:
        return f"{s * 1000:.0f} ms"
    return f"{s:.2f} s"


def fmt_rss(kib: int) -> str:
    """Peak RSS in MiB (one decimal)."""
    return f"{kib / 1024:.1f} MiB"


def _cell(m: Measurement) -> str:
    if not m.ok:
        return f"failed (exit {m.first.exit_code})"
    return f"{fmt_seconds(m.median)} ({fmt_seconds(m.min)}-{fmt_seconds(m.max)}, n={len(m.times)})"


def _ratio(r: Optional[float]) -> str:
    if r is None:
        return "-"
    return f"{r:.0f}x" if r >= 10 else f"{r:.1f}x"


def _target(row: Row) -> str:
    met = row.meets_target
    if met is None:
        return ""
    return f">= {row.target:.0f}x {'yes' if met else 'NO'}"


def table(rows: list) -> str:
    """The results table and its notes, in markdown."""
    out = [
        "| case | projects | real dg: median (min-max) | ours: median (min-max) | ratio "
        "| CPU ratio | real peak RSS | ours peak RSS | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    notes = []
    for row in rows:
        size = "" if row.size is None else str(row.size)
        out.append(
            f"| `{row.case}` | {size} | {_cell(row.real)} | {_cell(row.ours)} | {_ratio(row.ratio)} "
            f"| {_ratio(row.cpu_ratio)} "
            f"| {fmt_rss(row.real.peak_rss_kib)} | {fmt_rss(row.ours.peak_rss_kib)} "
            f"| {_target(row)} |"
        )
        notes.extend(f"- `{row.case}` [{size or '-'}]: {n}" for n in row.notes)
    if notes:
        out += ["", "Notes:", *notes]
    return "\n".join(out)


def _git_commit() -> str:
    proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                          capture_output=True, text=True)
    return proc.stdout.strip() or "unknown"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def header(tools: Tools, argv: list, floor: Optional[Measurement]) -> str:
    """Who, where and how: date, commit, machine, versions and the exact command."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        f"- date: {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; commit `{_git_commit()}`",
        f"- machine: {os.cpu_count()} cores ({_cpu_model()}), {platform.system()} "
        f"{platform.release()}; load average before the run: {load}",
        f"- real tools: dagster-dg-cli / create-dagster / dagster {tools.version} in "
        f"`{tools.real_bin.parent}`; ours: `{tools.ours_bin}`",
        f"- command: `{' '.join(shlex.quote(a) for a in argv)}`",
    ]
    if floor is not None:
        lines.append(
            f"- harness floor (spawn and reap `/bin/true` from Python {sys.version.split()[0]}): "
            f"median {fmt_seconds(floor.median)}, included in every time below"
        )
    return "\n".join(lines)
