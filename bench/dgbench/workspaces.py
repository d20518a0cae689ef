"""Workspaces of N projects, made by the real `create-dagster` and cached.

`workspace(tools, cache, n)` returns `<cache>/workspaces/dagster-<V>/ws-<n>`, creating it the first
time with the real tools, exactly as a user would:

    create-dagster workspace ws-<n> --no-uv-sync
    cd ws-<n> && create-dagster project --no-uv-sync projects/proj-01   # ... up to proj-<n>

so `dg.toml` lists the projects the way real `create-dagster` writes it, and each project has the
layout it scaffolds (`pyproject.toml` with `[tool.dg]`, `src/<pkg>/definitions.py`, `defs/`). No
Python environment is created: the first cases (`list projects`, `check toml`) need none on
either side. A `.complete` stamp marks a finished workspace; an unfinished one is rebuilt.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from .tools import SetupError, Tools


def project_names(n: int) -> list[str]:
    """Names of the projects of a workspace of `n` (zero-padded so they sort as created)."""
    width = max(2, len(str(n)))
    return [f"proj-{i:0{width}d}" for i in range(1, n + 1)]


def _create(tools: Tools, args: list, cwd: Path) -> None:
    env = dict(tools.env, DAGSTER_DG_UPDATE_CHECK_ENABLED="0")
    cmd = [tools.real("create-dagster"), *args]
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise SetupError(f"`{' '.join(cmd)}` failed in `{cwd}` (exit {proc.returncode})\n{tail}")


def workspace(tools: Tools, cache: Path, n: int, log) -> Path:
    """A workspace of `n` projects made by the real `create-dagster` (cached; see module doc)."""
    parent = cache / "workspaces" / f"dagster-{tools.version}"
    root = parent / f"ws-{n}"
    stamp = root / ".complete"
    if stamp.exists():
        return root
    log(f"creating a workspace of {n} projects with the real create-dagster: {root}")
    if root.exists():
        shutil.rmtree(root)
    parent.mkdir(parents=True, exist_ok=True)
    _create(tools, ["workspace", "--no-uv-sync", root.name], parent)
    for name in project_names(n):
        _create(tools, ["project", "--no-uv-sync", f"projects/{name}"], root)
    dg_toml = (root / "dg.toml").read_text()
    missing = [p for p in project_names(n) if f'"projects/{p}"' not in dg_toml]
    if missing:
        raise SetupError(f"`{root / 'dg.toml'}` does not list {missing[:3]}...; delete it and rerun")
    stamp.write_text(f"{n} projects, create-dagster {tools.version}\n")
    return root
