"""`bench/run`: argument parsing and the order of work.

Set up both sides (install the real tools once, build ours), run the chosen cases for each
workspace size, print the markdown report on stdout (progress goes to stderr). Exit 0 when
every side of every row succeeded (and, with `--check`, every target ratio was met), 1 when
not, 2 for bad arguments or a failed setup.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .cases import CASES, Context
from . import case_create_project  # noqa: F401  (registers the `create-project` case)
from . import case_launch  # noqa: F401  (registers the `launch` and `ingest` cases)
from . import case_defs  # noqa: F401  (registers the `check-defs` and `list-defs` cases)
from . import case_dev  # noqa: F401  (registers the `dev-ready` and `dev-first-step` cases)
from . import case_instance  # noqa: F401  (registers `instance-ingest`, `api-runs`, `run-page`)
from .measure import measure_floor
from .report import header, table
from .tools import SetupError, default_cache_dir, prepare


def _log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def _sizes(text: str) -> list:
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers like `2,50`, got `{text}`")
    if not sizes or any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError(f"expected positive project counts, got `{text}`")
    return sizes


def _backends(text: str) -> tuple:
    names = tuple(s.strip() for s in text.split(",") if s.strip())
    bad = [n for n in names if n not in ("sqlite", "postgres")]
    if not names or bad:
        raise argparse.ArgumentTypeError(f"expected sqlite and/or postgres, got `{text}`")
    return names


def parser() -> argparse.ArgumentParser:
    """The command-line interface of `bench/run`."""
    p = argparse.ArgumentParser(
        prog="bench/run",
        description="Time our dg against the real Dagster dg, side by side, and print ratios.",
    )
    p.add_argument("--case", action="append", default=[],
                   help="case to run (repeat or comma-separate; default: all). See --list.")
    p.add_argument("--list", action="store_true", help="list the cases and exit")
    p.add_argument("--projects", type=_sizes, default=[2, 50],
                   help="workspace sizes for sized cases, e.g. 2,50 (default)")
    p.add_argument("--runs-real", type=int, default=5, help="timed runs of the real tool (5)")
    p.add_argument("--runs-ours", type=int, default=30, help="timed runs of ours (30)")
    p.add_argument("--cache-dir", type=Path, default=default_cache_dir(),
                   help="where the real tools and workspaces live (~/.cache/dg-bench)")
    p.add_argument("--python", default="3.11", help="Python for the real tools' venv (3.11)")
    p.add_argument("--no-build", action="store_true",
                   help="use target/release as it is instead of building it")
    p.add_argument("--ours", type=Path, help="folder holding our dg/create-dagster binaries")
    p.add_argument("--check", action="store_true",
                   help="exit 1 when a case misses its target ratio")
    p.add_argument("--output", type=Path, help="also write the report to this file")
    p.add_argument("--quick", action="store_true",
                   help="small sizes for the cases that have them (instance cases)")
    p.add_argument("--backends", type=_backends, default=("sqlite", "postgres"),
                   help="instance kinds of the instance cases: sqlite,postgres (default both)")
    p.add_argument("--no-real-ingest", action="store_true",
                   help="instance-ingest: time ours only (real Dagster's run takes many minutes)")
    return p


def main(argv: list) -> int:
    """Runs `bench/run` with `argv` (without the program name); returns the exit code."""
    args = parser().parse_args(argv)
    if args.list:
        for c in CASES.values():
            print(f"{c.name:16} {c.title}{'' if c.sized else '  (not sized)'}")
        return 0
    names = [n.strip() for arg in args.case for n in arg.split(",") if n.strip()] or list(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        _log(f"unknown case(s) {', '.join(unknown)}; known: {', '.join(CASES)}")
        return 2
    args.cache_dir = args.cache_dir.expanduser().resolve()
    try:
        tools = prepare(args.cache_dir, args.python, not args.no_build, args.ours, _log)
        ctx = Context(tools, args.cache_dir, args.runs_real, args.runs_ours, _log,
                      quick=args.quick, backends=args.backends,
                      real_ingest=not args.no_real_ingest)
        rows = []
        for name in names:
            c = CASES[name]
            for size in (args.projects if c.sized else [None]):
                rows.extend(c.run(ctx, size))
    except SetupError as e:
        _log(f"error: {e}")
        return 2
    floor = measure_floor()
    report = header(tools, ["bench/run", *argv], floor) + "\n\n" + table(rows) + "\n"
    print(report)
    if args.output:
        args.output.write_text(report)
    failed = any(not (r.real.ok and r.ours.ok) for r in rows)
    missed = args.check and any(r.meets_target is False for r in rows)
    return 1 if failed or missed else 0
