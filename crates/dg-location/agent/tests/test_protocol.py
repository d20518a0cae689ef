"""Framing of the host-agent channel: one JSON object per line, each with the protocol version,
strict JSON whatever user values hold, the channel moved out of user code's reach."""

import json
import os
import socket

from _dg_agent.protocol import PROTOCOL_VERSION, Channel, encode_message, jsonable


def test_a_message_is_one_strict_json_line():
    data = encode_message({"type": "pong", "text": "a\nb"})
    assert data.endswith(b"\n") and data.count(b"\n") == 1
    assert json.loads(data) == {"type": "pong", "text": "a\nb"}


def test_values_json_has_no_word_for_are_written_as_dagster_shows_them():
    data = encode_message({"nan": float("nan"), "inf": float("inf"), "s": "b\udcff", 1: [2.5]})
    message = json.loads(data)  # Python's parser would accept NaN: check the text too
    assert b"NaN" not in data and b"Infinity" not in data
    assert message == {"nan": "nan", "inf": "inf", "s": "b\ufffd", "1": [2.5]}
    # A surrogate pair (from `surrogatepass` decoding) is joined into its character.
    assert json.loads(encode_message({"e": "\ud83d\ude00"})) == {"e": "\U0001f600"}


def test_jsonable_keeps_plain_values_and_names_the_rest():
    class Thing:
        def __str__(self):
            return "thing"

    assert jsonable({"a": (1, [Thing()]), 2: None}) == {"a": [1, ["thing"]], "2": None}


def test_the_channel_moves_to_a_private_descriptor_and_frames_messages():
    host, agent_end = socket.socketpair()
    fd = os.dup(agent_end.fileno())
    agent_end.close()
    channel = Channel(fd)
    try:
        # The old number now points at /dev/null: what user code writes there goes nowhere.
        os.write(fd, b"user code writes here\n")
        channel.send({"type": "pong", "id": 3})
        line = host.makefile("rb").readline()
        assert json.loads(line) == {"type": "pong", "id": 3, "v": PROTOCOL_VERSION}
        host.sendall(b'{"type":"ping","id":1}\n\n  \n{"type":"shutdown","id":2}\n')
        host.shutdown(socket.SHUT_WR)
        assert [r["type"] for r in channel.requests()] == ["ping", "shutdown"]
    finally:
        channel.close()
        os.close(fd)
        host.close()


def test_the_agent_answers_over_its_channel(start_agent, tmp_path):
    agent, ready = start_agent(tmp_path)
    assert ready["pid"] == agent.proc.pid
    assert "id" not in ready
    assert agent.request("ping")["type"] == "pong"
    unknown = agent.request("no_such_request")
    assert unknown["type"] == "unsupported"
    assert unknown["request"] == "no_such_request"
    assert unknown["protocol"] == PROTOCOL_VERSION
    assert agent.request("shutdown")["type"] == "bye"
    assert agent.proc.wait(timeout=30) == 0
