"""Shared helpers of the agent's tests: the package imported from the source tree, and an agent
started as the host starts it (`python -m _dg_agent`, the channel at descriptor 3) in the
interpreter running the tests (the shared test environment with real `dagster`)."""

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

AGENT_HOME = Path(__file__).resolve().parent.parent
if str(AGENT_HOME) not in sys.path:
    sys.path.insert(0, str(AGENT_HOME))

from _dg_agent.protocol import PROTOCOL_VERSION  # noqa: E402


class AgentProcess:
    """An agent subprocess and the host's end of its channel."""

    def __init__(self, cwd, extra_env=None):
        host, agent = socket.socketpair()
        env = dict(os.environ)
        env.update(extra_env or {})
        user_path = env.get("PYTHONPATH")
        env["PYTHONPATH"] = str(AGENT_HOME) + (os.pathsep + user_path if user_path else "")
        env["DG_AGENT_FD"] = "3"
        env["PYTHONUNBUFFERED"] = "1"
        fd = agent.fileno()

        def at_fd_3():
            os.dup2(fd, 3)

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "_dg_agent"],
            cwd=cwd,
            env=env,
            pass_fds=(fd, 3),
            preexec_fn=at_fd_3,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        agent.close()
        self.sock = host
        self.sock.settimeout(300)
        self.rfile = host.makefile("rb")
        self.next_id = 1

    def receive(self):
        line = self.rfile.readline()
        assert line.endswith(b"\n"), f"the agent closed its channel: {line!r}"
        message = json.loads(line)
        assert message["v"] == PROTOCOL_VERSION
        return message

    def request(self, kind, **fields):
        rid = self.next_id
        self.next_id += 1
        message = dict(fields, v=PROTOCOL_VERSION, id=rid, type=kind)
        self.sock.sendall(json.dumps(message).encode() + b"\n")
        answer = self.receive()
        assert answer["id"] == rid, answer
        return answer

    def close(self):
        try:
            self.request("shutdown")
        except (OSError, AssertionError):
            pass
        self.rfile.close()
        self.sock.close()
        try:
            out, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        return out.decode(errors="replace"), err.decode(errors="replace")


@pytest.fixture
def start_agent():
    agents = []

    def start(cwd, extra_env=None):
        agent = AgentProcess(cwd, extra_env)
        agents.append(agent)
        ready = agent.receive()
        assert ready["type"] == "ready", ready
        return agent, ready

    yield start
    for agent in agents:
        if agent.proc.poll() is None:
            agent.close()


def write_project(root, name, definitions, files=None):
    """A project `name` under `root` whose `definitions.py` is `definitions`; returns the load
    target the host would send."""
    package = Path(root) / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "definitions.py").write_text(textwrap.dedent(definitions))
    for relative, text in (files or {}).items():
        (package / relative).write_text(textwrap.dedent(text))
    return {
        "root": str(root),
        "working_directory": str(root),
        "root_module": name,
        "target_module": None,
        "defs_module": None,
    }
