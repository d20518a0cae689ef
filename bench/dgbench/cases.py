"""The named benchmark cases and the registry that `bench/run --case NAME` picks from.

A case is a function `(ctx, size) -> list[Row]` registered with `@case(...)`. `size` is the
number of projects in the workspace for cases registered with `sized=True` (one call per value
of `--projects`), else `None`. Most cases run the same command on both sides with `compare`;
cases that measure something other than wall time of one command (time-to-ready, throughput)
build their `Row`s themselves.

To add a case: write a function here (or in a new module imported by `bench/run`'s CLI), decorate
it with `@case(name=..., title=...)`, and use `ctx.workspace(n)` for its workspace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

from .measure import Measurement, measure_interleaved
from .tools import Tools
from .workspaces import workspace


@dataclass
class Row:
    """One line of the results table: both sides of one case at one size."""

    case: str
    size: Optional[int]
    real: Measurement
    ours: Measurement
    target: Optional[float] = None
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> Optional[float]:
        """Real median divided by ours; `None` when either side failed."""
        if not (self.real.ok and self.ours.ok) or self.ours.median <= 0:
            return None
        return self.real.median / self.ours.median

    @property
    def cpu_ratio(self) -> Optional[float]:
        """Real median CPU time divided by ours; `None` when either side failed or used none."""
        if not (self.real.ok and self.ours.ok) or self.ours.cpu_median <= 0:
            return None
        return self.real.cpu_median / self.ours.cpu_median

    @property
    def meets_target(self) -> Optional[bool]:
        """Whether the ratio reaches the case's target (`None` when it has none)."""
        if self.target is None:
            return None
        return self.ratio is not None and self.ratio >= self.target


@dataclass
class Context:
    """What every case gets: the tools, the cache, how many runs, a log function."""

    tools: Tools
    cache: Path
    runs_real: int
    runs_ours: int
    log: Callable[[str], None]
    # `--quick`: the small sizes of cases that have them (for CI and trying a case out).
    quick: bool = False
    # `--backends`: the instance kinds of the instance cases.
    backends: tuple = ("sqlite", "postgres")
    # `--no-real-ingest`: instance-ingest times ours only (real Dagster's 100,000-event run takes
    # 12-24 minutes; its numbers are kept in docs/benchmarks.md).
    real_ingest: bool = True

    def workspace(self, n: int) -> Path:
        """The cached workspace of `n` projects (made by the real `create-dagster`)."""
        return workspace(self.tools, self.cache, n, self.log)


@dataclass
class Case:
    """A registered case: its name on the command line, its title in the table, its function."""

    name: str
    title: str
    sized: bool
    run: Callable[[Context, Optional[int]], list]


CASES: dict = {}


def case(name: str, title: str, sized: bool = True):
    """Registers the decorated function as the case `name` (see the module doc)."""

    def register(fn):
        CASES[name] = Case(name=name, title=title, sized=sized, run=fn)
        return fn

    return register


def _first_line(m: Measurement) -> str:
    lines = (m.first.stderr.strip() or m.first.stdout.strip()).splitlines()
    return lines[0] if lines else "(no output)"


def compare(
    ctx: Context,
    title: str,
    args: Sequence[str],
    cwd: Path,
    size: Optional[int] = None,
    target: Optional[float] = None,
) -> Row:
    """Times `<tool> <args>` on both sides in `cwd`, runs interleaved; returns their row.

    Notes record a failing side (with the first line it printed) and whether both printed
    the same stdout, so a fast but wrong answer is visible in the table.
    """
    tool = args[0]
    rest = list(args[1:])
    ctx.log(f"{title} [{size if size is not None else '-'}]: "
            f"real x{ctx.runs_real}, ours x{ctx.runs_ours}, interleaved")
    real, ours = measure_interleaved(
        [([ctx.tools.real(tool), *rest], ctx.runs_real),
         ([ctx.tools.ours(tool), *rest], ctx.runs_ours)],
        cwd,
        ctx.tools.env,
    )
    row = Row(case=title, size=size, real=real, ours=ours, target=target)
    for side, m in (("real", real), ("ours", ours)):
        if not m.ok:
            row.notes.append(f"{side} failed (exit {m.first.exit_code}): {_first_line(m)}")
    if real.ok and ours.ok and real.first.stdout != ours.first.stdout:
        row.notes.append("stdout differs between real and ours")
    return row


@case("version", "dg --version", sized=False)
def version_case(ctx: Context, size: Optional[int]) -> list:
    """`dg --version`: start-up cost alone, run in the smallest workspace."""
    return [compare(ctx, "dg --version", ["dg", "--version"], ctx.workspace(2))]


@case("list-projects", "dg list projects")
def list_projects_case(ctx: Context, size: Optional[int]) -> list:
    """`dg list projects` at the workspace root; must be at least 100x faster than real."""
    ws = ctx.workspace(size)
    return [compare(ctx, "dg list projects", ["dg", "list", "projects"], ws, size, target=100)]


@case("check-toml", "dg check toml")
def check_toml_case(ctx: Context, size: Optional[int]) -> list:
    """`dg check toml` at the workspace root; must be at least 100x faster than real."""
    ws = ctx.workspace(size)
    return [compare(ctx, "dg check toml", ["dg", "check", "toml"], ws, size, target=100)]
