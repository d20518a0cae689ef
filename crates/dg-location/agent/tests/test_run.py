"""The run worker: a one-asset run streams versioned messages (built by `wire`) on the run socket,
in the agent's own process (`execute_run`) and in a forked worker (`fork_run`), to a host that
stores them in the instance and acknowledges them."""

import json
import os
import uuid

import pytest

from _dg_agent import wire
from _dg_agent.stream import MAX_LINE_BYTES, cut_lines
from conftest import write_project
from host import Host

DEFINITIONS = r"""
    import os
    import sys

    import dagster as dg


    @dg.asset
    def one(context):
        print("hello from the asset")
        sys.stdout.flush()
        os.write(1, b"binary \xff\xfe output\n")
        context.log.info("logged")
        return 1


    defs = dg.Definitions(assets=[one])
"""


def run_host(tmp_path, **options):
    """The host of one run, storing into the instance home `tmp_path/home`."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return Host(tmp_path / "run.sock", home=home, **options)


def spec(tmp_path, events_socket):
    return {
        "run_id": str(uuid.uuid4()),
        "events_socket": events_socket.path,
        "instance_home": str(tmp_path / "home"),
        "asset_selection": [["one"]],
        "job_name": None,
        "partition": None,
        "partition_range": None,
        "run_config": {},
        "tags": {},
    }


def check_messages(messages, pid):
    assert messages[0] == {"t": "hello", "v": wire.WIRE_VERSION, "pid": pid}
    assert messages[-1] == {"t": "end", "success": True}
    events = messages[1:-1]
    assert all(m["t"] == "event" for m in events)
    assert [m["seq"] for m in events] == list(range(1, len(events) + 1))
    types = [m["event"]["type"] for m in events]
    for expected in ("RUN_START", "STEP_START", "ASSET_MATERIALIZATION", "STEP_SUCCESS", "RUN_SUCCESS"):
        assert expected in types, types
    assert types.index("STEP_START") < types.index("ASSET_MATERIALIZATION") < types.index("RUN_SUCCESS")
    materialization = next(m["event"] for m in events if m["event"]["type"] == "ASSET_MATERIALIZATION")
    assert materialization["asset_key"] == ["one"]
    assert materialization["step_key"] == "one"
    stdout = [m["event"] for m in events if m["event"]["type"] == "STDOUT"]
    assert [(e["text"], e["step_key"]) for e in stdout] == [
        ("hello from the asset", "one"),
        ("binary \ufffd\ufffd output", "one"),  # bytes that are not UTF-8 arrive replaced
    ]
    assert any(
        m["event"]["type"] == "LOG" and m["event"]["message"] == "logged" and m["event"]["level"] == "INFO"
        for m in events
    )
    for m in events:
        assert isinstance(m["event"]["timestamp"], float)
        # Dagster's own text of every event but captured output, which is not an event in Dagster.
        if m["event"]["type"] in ("STDOUT", "STDERR"):
            assert "dagster" not in m
        else:
            assert json.loads(m["dagster"])["__class__"] == "EventLogEntry"


@pytest.fixture
def loaded_agent(start_agent, tmp_path):
    target = write_project(tmp_path, "one_asset", DEFINITIONS)
    agent, ready = start_agent(tmp_path)
    assert agent.request("load", target=target)["type"] == "loaded"
    return agent, ready


def test_a_run_in_the_agent_streams_versioned_messages(loaded_agent, tmp_path):
    agent, ready = loaded_agent
    events = run_host(tmp_path)
    answer = agent.request("execute_run", run=spec(tmp_path, events))
    assert answer == {"type": "run_finished", "pid": ready["pid"], "success": True, "id": answer["id"], "v": 1}
    check_messages(events.wait(), ready["pid"])


def test_a_forked_worker_streams_versioned_messages(loaded_agent, tmp_path):
    agent, ready = loaded_agent
    assert agent.request("warm_up", instance_home=str(tmp_path / "home"))["type"] == "warmed_up"
    events = run_host(tmp_path)
    answer = agent.request("fork_run", run=spec(tmp_path, events))
    assert answer["type"] == "run_forked"
    assert answer["pid"] != ready["pid"]
    check_messages(events.wait(), answer["pid"])
    # The agent keeps serving.
    assert agent.request("ping")["type"] == "pong"


def test_a_run_of_an_unknown_job_fails_with_the_reason(loaded_agent, tmp_path):
    agent, _ = loaded_agent
    events = run_host(tmp_path)
    run = dict(spec(tmp_path, events), asset_selection=None, job_name="nope")
    answer = agent.request("execute_run", run=run)
    assert answer["success"] is False
    messages = events.wait()
    failure = [m["event"] for m in messages if m["t"] == "event" and m["event"]["type"] == "RUN_FAILURE"]
    assert len(failure) == 1
    assert "no job named `nope`" in failure[0]["error"]["message"]
    assert failure[0]["error"]["class_name"] == "LookupError"
    assert messages[-1] == wire.end(False)


def test_a_run_before_loading_is_rejected(start_agent, tmp_path):
    agent, _ = start_agent(tmp_path)
    events = run_host(tmp_path)
    answer = agent.request("execute_run", run=spec(tmp_path, events))
    # The worker reports the failure as the run's (it connected and said hello first).
    assert answer["success"] is False
    messages = events.wait()
    assert messages[0]["t"] == "hello"
    assert "has not loaded" in messages[1]["event"]["error"]["message"]


def test_long_output_is_cut_at_character_boundaries():
    pieces, rest = cut_lines(b"a\nb\n" + "é".encode() * MAX_LINE_BYTES)
    assert pieces[:2] == [b"a", b"b"]
    assert all(len(p) <= MAX_LINE_BYTES for p in pieces)
    for piece in pieces[2:] + [rest]:
        piece.decode("utf-8")  # never cut inside a character
    assert len(rest) <= MAX_LINE_BYTES


def test_every_sample_message_is_tagged_and_numbered():
    messages = wire.samples()
    assert messages[0]["t"] == "hello" and messages[0]["v"] == wire.WIRE_VERSION
    assert messages[-1] == {"t": "end", "success": True}
    events = messages[1:-1]
    assert [m["seq"] for m in events] == list(range(1, len(events) + 1))
    # `t` and `seq` come first in the line: the host finds the number in a line it cannot parse.
    from _dg_agent.protocol import encode_message

    assert encode_message(events[0]).startswith(b'{"t":"event","seq":1,')
    assert os.path.basename(wire.__file__) == "wire.py"


def test_the_worker_reads_only_stored_acknowledgements():
    assert wire.stored_through(wire.stored(7)) == 7
    assert wire.stored_through({"t": "stored", "through": 3, "extra": 1}) == 3
    for other in ({"t": "hello"}, {"t": "stored"}, {"t": "stored", "through": True}, [], None):
        assert wire.stored_through(other) is None
    events = wire.samples()[1:-1]
    with_text = [m for m in events if "dagster" in m]
    assert with_text and all(json.loads(m["dagster"])["__class__"] == "EventLogEntry" for m in with_text)
    assert all("dagster" not in m for m in events if m["event"]["type"] in ("STDOUT", "STDERR"))
