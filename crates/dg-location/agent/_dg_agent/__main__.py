"""`python -m _dg_agent`: runs the agent (see the package's docstring)."""

import os
import sys


def _forget_own_path():
    """Removes the folder holding this package from the front of `PYTHONPATH`, where the host put
    it, so that subprocesses of user code see the user's own `PYTHONPATH` only. (`sys.path` keeps
    it: the agent imports its own modules later, and the name `_dg_agent` is private.)"""
    home = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    value = os.environ.get("PYTHONPATH")
    if value is None:
        return
    parts = value.split(os.pathsep)
    if parts and parts[0] and os.path.abspath(parts[0]) == home:
        parts = parts[1:]
        if parts:
            os.environ["PYTHONPATH"] = os.pathsep.join(parts)
        else:
            del os.environ["PYTHONPATH"]


if __name__ == "__main__":
    _forget_own_path()
    from _dg_agent.agent import main

    sys.exit(main())
