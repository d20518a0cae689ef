"""The `launch` and `ingest` cases: `dg launch` of real assets, ours against real.

Both sides run in one project, made once by the real `create-dagster project --no-uv-sync` under
the cache, with a `.venv` holding `dagster`, `dagster-dg-cli` (the real `dg launch` executes in
its own interpreter, so the project must be importable there) and the project itself (editable).
Ours finds that same `.venv`. Each side keeps its runs where it keeps them by default: the real
`dg` in a temporary instance it deletes afterwards, ours in the persistent `.dagster/` instance.

- `launch`: one small asset, the interleaved runs of `compare`.
- `ingest`: a run whose asset logs 100,000 events, timed once per side (it takes minutes on the
  real side): ours into SQLite and into PostgreSQL (`DAGSTER_HOME` with a `dagster.yaml` naming
  the server from `$DG_TEST_POSTGRES_URL`, else `postgres://postgres@127.0.0.1:5432/test`), the
  real one into its own SQLite instance. Notes give events per second of each.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Optional

from .cases import Context, Row, case, compare
from .measure import Measurement, RunOutput, run_once
from .tools import SetupError

ASSETS = '''import dagster as dg


@dg.asset
def small():
    return 1


class Many(dg.Config):
    count: int = 1000


@dg.asset
def many_logs(context: dg.AssetExecutionContext, config: Many):
    for i in range(config.count):
        context.log.info(f"log event {i}")
'''

EVENTS = 100_000


def _project(ctx: Context) -> Path:
    root = ctx.cache / "launch" / f"dagster-{ctx.tools.version}"
    proj = root / "launchproj"
    stamp = root / "ready"
    if stamp.exists():
        return proj
    ctx.log(f"making the launch project in {proj} (once)")
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    env = dict(os.environ, UV_PYTHON_DOWNLOADS="never")

    def run(cmd, cwd):
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SetupError(f"`{' '.join(map(str, cmd))}` failed:\n{proc.stderr[-2000:]}")

    run([ctx.tools.real("create-dagster"), "project", "--no-uv-sync", "launchproj"], root)
    (proj / "src" / "launchproj" / "defs" / "assets.py").write_text(ASSETS)
    run(["uv", "venv", "--quiet", "--python", "3.11", ".venv"], proj)
    v = ctx.tools.version
    run(["uv", "pip", "install", "--quiet", "--python", ".venv/bin/python",
         f"dagster=={v}", f"dagster-dg-cli=={v}", "-e", "."], proj)
    stamp.write_text("ok\n")
    return proj


@case("launch", "dg launch --assets small", sized=False)
def launch_case(ctx: Context, size: Optional[int]) -> list:
    """`dg launch` of one small asset in a project."""
    proj = _project(ctx)
    real_dg = str(proj / ".venv" / "bin" / "dg")
    tools = ctx.tools
    # `compare` runs `tools.real(tool)`: point it at the project's own `dg`.
    saved = tools.real_bin
    tools.real_bin = proj / ".venv" / "bin"
    try:
        row = compare(ctx, "dg launch --assets small", ["dg", "launch", "--assets", "small"],
                      proj)
    finally:
        tools.real_bin = saved
    row.notes = [n for n in row.notes if "stdout differs" not in n]
    row.notes.append(f"real is `{real_dg}` (dagster-dg-cli in the project's venv)")
    return [row]


def _postgres_home(base: Path) -> Path:
    url = os.environ.get("DG_TEST_POSTGRES_URL") or "postgres://postgres@127.0.0.1:5432/test"
    home = base / "pg-home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(f"storage:\n  postgres:\n    postgres_url: {url}\n")
    return home


def _timed(cmd, cwd, env) -> tuple:
    captured: list = []
    one = run_once(cmd, cwd, env, sample_tree=True, capture=captured)
    first = RunOutput(one.exit_code, captured[0], captured[1])
    m = Measurement(times=[one.seconds], peak_rss_kib=one.peak_rss_kib, first=first,
                    failed_runs=0, cpu_times=[one.cpu_seconds])
    return m, first


def _events_per_second(m: Measurement, stored: Optional[int]) -> str:
    if not m.ok or not m.times:
        return "failed"
    n = stored if stored is not None else EVENTS
    return f"{n / m.times[0]:,.0f} events/s ({n:,} events in {m.times[0]:.1f}s)"


def _stored(out: RunOutput) -> Optional[int]:
    found = re.findall(r"\((?:code location `[^`]*`, )?(\d+) events\)", out.stderr)
    return int(found[-1]) if found else None


@case("ingest", f"dg launch: run logging {EVENTS:,} events", sized=False)
def ingest_case(ctx: Context, size: Optional[int]) -> list:
    """Event ingestion throughput of a run that logs 100,000 events, per backend."""
    proj = _project(ctx)
    config = json.dumps({"ops": {"many_logs": {"config": {"count": EVENTS}}}})
    args = ["launch", "--assets", "many_logs", "--config-json", config]
    ctx.log(f"ingest: one run per side of {EVENTS:,} log events (the real side takes minutes)")
    real, real_out = _timed([str(proj / ".venv" / "bin" / "dg"), *args], proj, ctx.tools.env)
    rows = []
    with tempfile.TemporaryDirectory(prefix="dg-bench-ingest-") as tmp:
        homes = [("SQLite", Path(tmp) / "sqlite-home"), ("PostgreSQL", _postgres_home(Path(tmp)))]
        for backend, home in homes:
            home.mkdir(parents=True, exist_ok=True)
            env = dict(ctx.tools.env, DAGSTER_HOME=str(home))
            ours, ours_out = _timed([ctx.tools.ours("dg"), *args], proj, env)
            row = Row(case=f"ingest {EVENTS:,} log events, ours into {backend}", size=None,
                      real=real, ours=ours)
            row.notes.append(f"ours ({backend}): {_events_per_second(ours, _stored(ours_out))}")
            row.notes.append(f"real (its temporary SQLite instance): "
                             f"{_events_per_second(real, None)}")
            if not ours.ok:
                lines = ours_out.stderr.strip().splitlines()
                row.notes.append(f"ours failed: {lines[-1] if lines else '(no output)'}")
            rows.append(row)
    return rows
