"""The `check-defs` and `list-defs` cases: commands that import user code, ours against real.

Workspaces: the real `create-dagster` workspace of N projects (`ctx.workspace(n)`), copied once to
`<cache>/defs-workspaces/dagster-<V>/ws-<n>`, with five dependent assets, an asset check and a
schedule in each project's defs folder (`defs/assets.py`, keys suffixed with the project's number:
two locations defining the same key is an error for our `dg check defs`) and a `.env` naming the Python to load
it with (`DG_PROJECT_PYTHON_EXECUTABLE`, which both tools honour): the real tools' own venv, which
has `dagster` at the pinned version. Both sides load the same code with the same interpreter.

- `check-defs`: `dg check defs` at the workspace root (the real `dg` loads the locations one
  after another in code servers; ours loads them all at once).
- `list-defs`: the real `dg list defs` works in a project only, so the real side lists each project
  in turn (`sh -c 'for p in projects/*/; do (cd $p && dg list defs); done'`); ours lists the
  whole workspace at once from its root.

Each case gives two rows from one interleaved measurement: ours cold (`--no-cache`: every location
loads in Python) and ours warm (nothing changed since the untimed run: snapshots come from our
cache and no Python starts). The real tool has no cache; its times are the same in both rows.
Our snapshot cache lives in `<cache>/dg-snapshot-cache` (`DG_CACHE_DIR`) so runs do not touch the
user's.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Optional

from .cases import Context, Row, case
from .measure import measure_interleaved
from .workspaces import project_names

ASSETS = '''import dagster as dg


@dg.asset(group_name="raw", kinds={{"python"}})
def orders_{n}():
    return [1, 2, 3]


@dg.asset(group_name="raw")
def customers_{n}():
    return ["a", "b"]


@dg.asset(group_name="marts")
def order_totals_{n}(orders_{n}):
    return sum(orders_{n})


@dg.asset(group_name="marts")
def customer_orders_{n}(orders_{n}, customers_{n}):
    return len(orders_{n}) * len(customers_{n})


@dg.asset(group_name="marts", description="The numbers for the weekly report")
def report_{n}(order_totals_{n}, customer_orders_{n}):
    return order_totals_{n} + customer_orders_{n}


@dg.asset_check(asset=orders_{n})
def orders_not_empty_{n}(orders_{n}):
    return dg.AssetCheckResult(passed=bool(orders_{n}))


nightly_{n} = dg.ScheduleDefinition(
    name="nightly_{n}", target=dg.AssetSelection.all(), cron_schedule="0 3 * * *"
)
'''

# Real runs take seconds to a minute each; ours cold a few seconds. Caps keep a full run short.
MAX_REAL_RUNS = 3
MAX_COLD_RUNS = 5


def defs_workspace(ctx: Context, n: int) -> Path:
    """The workspace of `n` projects with definitions (see the module doc), made once."""
    root = ctx.cache / "defs-workspaces" / f"dagster-{ctx.tools.version}" / f"ws-{n}"
    stamp = root / ".complete"
    version = f"{n} projects with definitions, {hashlib.sha256(ASSETS.encode()).hexdigest()[:12]}\n"
    if stamp.exists() and stamp.read_text() == version:
        return root
    source = ctx.workspace(n)
    ctx.log(f"adding definitions to a copy of {source}: {root}")
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(source, root)
    python = ctx.tools.real("python")
    for name in project_names(n):
        project = root / "projects" / name
        package = project / "src" / name.replace("-", "_")
        (package / "defs" / "assets.py").write_text(ASSETS.format(n=name.split("-")[-1]))
        (project / ".env").write_text(f"DG_PROJECT_PYTHON_EXECUTABLE={python}\n")
    stamp.write_text(version)
    return root


def _env(ctx: Context) -> dict:
    return dict(ctx.tools.env, DG_CACHE_DIR=str(ctx.cache / "dg-snapshot-cache"))


def _rows(ctx: Context, title: str, real_cmd: list, ours_args: list, ws: Path, size: int,
          note: str) -> list:
    real_runs = min(ctx.runs_real, MAX_REAL_RUNS)
    cold_runs = min(ctx.runs_ours, MAX_COLD_RUNS)
    ctx.log(f"{title} [{size}]: real x{real_runs}, ours cold x{cold_runs}, "
            f"ours warm x{ctx.runs_ours}, interleaved")
    ours = ctx.tools.ours("dg")
    real, cold, warm = measure_interleaved(
        [(real_cmd, real_runs),
         ([ours, *ours_args, "--no-cache"], cold_runs),
         ([ours, *ours_args], ctx.runs_ours)],
        ws,
        _env(ctx),
    )
    rows = [
        Row(case=f"{title} (ours cold: --no-cache)", size=size, real=real, ours=cold,
            target=2.0 if size >= 2 else None),
        Row(case=f"{title} (ours warm: cached)", size=size, real=real, ours=warm, target=50.0),
    ]
    for row in rows:
        row.notes.append(note)
        for side, m in (("real", real), ("ours", row.ours)):
            if not m.ok:
                lines = (m.first.stderr.strip() or m.first.stdout.strip()).splitlines()
                row.notes.append(f"{side} failed (exit {m.first.exit_code}): "
                                 f"{lines[-1] if lines else '(no output)'}")
    return rows


@case("check-defs", "dg check defs (cold and warm)")
def check_defs_case(ctx: Context, size: Optional[int]) -> list:
    """`dg check defs` at the workspace root: cold at least 2x faster from 2 projects, warm 50x."""
    ws = defs_workspace(ctx, size)
    return _rows(ctx, "dg check defs", [ctx.tools.real("dg"), "check", "defs"],
                 ["check", "defs"], ws, size,
                 "both at the workspace root")


@case("list-defs", "dg list defs (cold and warm)")
def list_defs_case(ctx: Context, size: Optional[int]) -> list:
    """`dg list defs`: real in each project in turn, ours once from the workspace root."""
    ws = defs_workspace(ctx, size)
    # The real `dg list defs` imports the project in its own interpreter, where it is not
    # installed: `src/` on `PYTHONPATH` makes it importable (what an editable install does).
    script = ('for p in projects/*/; do (cd "$p" && PYTHONPATH=src exec "$0" list defs) '
              '|| exit 1; done')
    return _rows(ctx, "dg list defs", ["sh", "-c", script, ctx.tools.real("dg")],
                 ["list", "defs"], ws, size,
                 "real: `dg list defs` in each project in turn (it needs a project), "
                 "with `PYTHONPATH=src`; ours: once at the workspace root")
