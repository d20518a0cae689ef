"""The `create-project` case: `create-dagster project PATH --no-uv-sync`, ours against real.

Every run needs a folder that does not exist yet, so this case cannot repeat one command like
`compare` does: each run gets its own path inside a temporary folder, and the runs of both sides
are interleaved with the harness's schedule. The untimed first run of each side keeps its output
for the table's notes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Optional

from .cases import Context, Row, case
from .measure import Measurement, RunOutput, _schedule, run_once

TITLE = "create-dagster project --no-uv-sync"


def _cmd(tool: str, path: Path) -> list:
    return [tool, "project", str(path), "--no-uv-sync"]


@case("create-project", TITLE, sized=False)
def create_project_case(ctx: Context, size: Optional[int]) -> list:
    """Scaffolds a fresh project per run on both sides (no environment sync)."""
    sides = [
        ("real", ctx.tools.real("create-dagster"), ctx.runs_real),
        ("ours", ctx.tools.ours("create-dagster"), ctx.runs_ours),
    ]
    ctx.log(f"{TITLE}: real x{ctx.runs_real}, ours x{ctx.runs_ours}, interleaved")
    with tempfile.TemporaryDirectory(prefix="dg-bench-create-") as tmp:
        base = Path(tmp)
        firsts, peaks = [], []
        for name, tool, _ in sides:
            captured: list = []
            warm = run_once(_cmd(tool, base / f"{name}-warm" / "proj"), base, ctx.tools.env,
                            sample_tree=True, capture=captured)
            firsts.append(RunOutput(warm.exit_code, captured[0], captured[1]))
            peaks.append(warm.peak_rss_kib)
        times: list = [[] for _ in sides]
        failed = [0 for _ in sides]
        for i in _schedule([max(runs, 1) for _, _, runs in sides]):
            name, tool, _ = sides[i]
            # A fresh parent per run: the project folder name (and so the package) stays `proj`.
            path = base / f"{name}-{len(times[i])}" / "proj"
            one = run_once(_cmd(tool, path), base, ctx.tools.env, sample_tree=False)
            times[i].append(one.seconds)
            failed[i] += one.exit_code != 0
    real, ours = (
        Measurement(times=times[i], peak_rss_kib=peaks[i], first=firsts[i], failed_runs=failed[i])
        for i in range(len(sides))
    )
    row = Row(case=TITLE, size=None, real=real, ours=ours)
    for side, m in (("real", real), ("ours", ours)):
        if not m.ok:
            lines = (m.first.stderr.strip() or m.first.stdout.strip()).splitlines()
            row.notes.append(f"{side} failed (exit {m.first.exit_code}): "
                             f"{lines[0] if lines else '(no output)'}")
    return [row]
