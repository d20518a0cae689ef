"""The benchmark harness behind `bench/run` (Python standard library only).

Modules: `measure` (timing and tree RSS of one command), `tools` (real Dagster installed into
the cache, our release binaries), `workspaces` (cached workspaces of N projects), `cases` (the
named cases and their registry), `report` (markdown), `cli` (arguments and order of work).
"""
