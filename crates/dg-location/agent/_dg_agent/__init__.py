"""The dg agent: loads a code location's Dagster definitions in the location's own interpreter and
executes its runs.

The host (the `dg` binary, which carries this package inside it) writes the package once to a cache
folder named by the hash of its files and starts `python -m _dg_agent` with the project's
interpreter and that folder first on `PYTHONPATH` (removed again before user code runs). It talks
to the agent over a private Unix socket inherited at the file descriptor named by `DG_AGENT_FD`;
see `crates/dg-location/README.md`. The agent's stdout and stderr belong to user code: the host
captures them as logs and never parses them.

Modules:
* `protocol`: the host-agent channel and the encoding of its JSON messages.
* `agent`: the request loop.
* `load`: importing the definitions as Dagster does.
* `snapshot`: the snapshot of what was loaded (plain data).
* `errors`: Python exceptions as the host shows them.
* `run`: executing a run (in the agent, or in a forked worker).
* `wire`: every message a run worker writes on its run socket (versioned, typed by the host in
  `dg-runs/src/wire.rs`).

Only the standard library and the public `dagster` API are used, except where noted (a private
helper is tried first and a public fallback used when it is missing). The package name starts with
an underscore so that it never collides with a user's module.
"""
