"""Every message of a run's socket, built and read here and nowhere else.

JSON objects, one per line, tagged by `t` (see `crates/dg-runs/src/wire.rs`, the source of truth,
whose tests parse `samples()`). The worker writes:

* `hello`: first; the wire version `v` and the worker's pid. The host refuses another version.
* `event`: the worker's sequence number (1, 2, 3, ...) and one event of the run: `timestamp`,
  `step_key` and `type` (Dagster's event type name, or `LOG`, `STDOUT`, `STDERR`), with the fields
  of that type; and `dagster`, Dagster's serialised `EventLogEntry` text of it, which the host
  stores as the event (absent for `STDOUT` / `STDERR` and events the worker made without Dagster).
* `end`: last; whether the run succeeded.

The host writes on the same socket `stored` (`through`: every event numbered up to it is stored),
after each batch it committed; the worker ignores any other message.
"""

import logging
import traceback

from _dg_agent.protocol import jsonable

# Bump on any change the host cannot read; `WIRE_VERSION` in `dg-runs/src/wire.rs` must match.
WIRE_VERSION = 2

# Dagster's event types sent under their own name with no extra fields.
PLAIN_EVENTS = (
    "RUN_ENQUEUED",
    "RUN_STARTING",
    "RUN_START",
    "RUN_SUCCESS",
    "RUN_CANCELING",
    "RUN_CANCELED",
    "STEP_START",
    "STEP_SKIPPED",
)
LEVELS = {
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARNING",
    logging.ERROR: "ERROR",
    logging.CRITICAL: "CRITICAL",
}


# ---------------------------------------------------------------------------------------------
# Messages


def hello(pid):
    return {"t": "hello", "v": WIRE_VERSION, "pid": pid}


def event_message(seq, event, dagster=None):
    # `t` and `seq` first: the host finds the number even in a line it cannot parse.
    message = {"t": "event", "seq": seq, "event": event}
    if dagster is not None:
        message["dagster"] = dagster
    return message


def end(success):
    return {"t": "end", "success": bool(success)}


def stored(through):
    """The host's acknowledgement: every event with `seq <= through` is stored."""
    return {"t": "stored", "through": through}


def stored_through(message):
    """`through` of a host's `stored` message, else `None` (a message this worker ignores)."""
    if isinstance(message, dict) and message.get("t") == "stored":
        through = message.get("through")
        if isinstance(through, int) and not isinstance(through, bool):
            return through
    return None


# ---------------------------------------------------------------------------------------------
# Events


def _event(kind, timestamp, step_key, **fields):
    event = {"timestamp": timestamp, "step_key": step_key, "type": kind}
    event.update(fields)
    return event


def plain(kind, timestamp, step_key=None):
    assert kind in PLAIN_EVENTS, kind
    return _event(kind, timestamp, step_key)


def step_success(timestamp, step_key, duration_ms):
    return _event("STEP_SUCCESS", timestamp, step_key, duration_ms=duration_ms)


def step_failure(timestamp, step_key, error):
    return _event("STEP_FAILURE", timestamp, step_key, error=error)


def run_failure(timestamp, error, step_key=None):
    return _event("RUN_FAILURE", timestamp, step_key, error=error)


def asset_materialization(timestamp, step_key, asset_key, partition, metadata):
    return _event(
        "ASSET_MATERIALIZATION",
        timestamp,
        step_key,
        asset_key=list(asset_key),
        partition=partition,
        metadata=metadata,
    )


def asset_observation(timestamp, step_key, asset_key, partition, metadata):
    return _event(
        "ASSET_OBSERVATION",
        timestamp,
        step_key,
        asset_key=list(asset_key),
        partition=partition,
        metadata=metadata,
    )


def asset_check_evaluation(
    timestamp, step_key, asset_key, check_name, passed, severity, partition, metadata
):
    return _event(
        "ASSET_CHECK_EVALUATION",
        timestamp,
        step_key,
        asset_key=list(asset_key),
        check_name=check_name,
        passed=bool(passed),
        severity=severity,
        partition=partition,
        metadata=metadata,
    )


def engine_event(timestamp, step_key, message):
    return _event("ENGINE_EVENT", timestamp, step_key, message=message)


def log(timestamp, step_key, level, message):
    return _event("LOG", timestamp, step_key, level=level, message=message)


def output(stream, timestamp, step_key, text):
    """Captured output: `stream` is `STDOUT` or `STDERR`."""
    assert stream in ("STDOUT", "STDERR"), stream
    return _event(stream, timestamp, step_key, text=text)


def error(message, class_name=None, stack=None):
    out = {"message": message, "class_name": class_name}
    if stack:
        out["stack"] = stack
    return out


# ---------------------------------------------------------------------------------------------
# From Dagster


def event_of_entry(entry):
    """The event of one of Dagster's `EventLogEntry`s."""
    ts, step = entry.timestamp, entry.step_key
    de = entry.dagster_event
    if de is None:
        level = LEVELS.get(entry.level, "INFO" if entry.level < logging.WARNING else "ERROR")
        return log(ts, step, level, entry.user_message)
    # The enum's names are today's (`RUN_START`); some values are older (`PIPELINE_START`).
    kind = de.event_type.name
    if kind in PLAIN_EVENTS:
        return plain(kind, ts, step)
    if kind == "STEP_SUCCESS":
        return step_success(ts, step, getattr(de.event_specific_data, "duration_ms", None))
    if kind == "STEP_FAILURE":
        failure = getattr(de.step_failure_data, "error", None)
        return step_failure(ts, step, error_of_serializable(failure, de.message))
    if kind == "RUN_FAILURE":
        failure = getattr(de.event_specific_data, "error", None)
        return run_failure(ts, error_of_serializable(failure, de.message), step_key=step)
    if kind == "ASSET_MATERIALIZATION":
        mat = de.step_materialization_data.materialization
        return asset_materialization(
            ts, step, mat.asset_key.path, mat.partition, metadata_of(mat.metadata)
        )
    if kind == "ASSET_OBSERVATION":
        obs = de.asset_observation_data.asset_observation
        return asset_observation(
            ts, step, obs.asset_key.path, obs.partition, metadata_of(obs.metadata)
        )
    if kind == "ASSET_CHECK_EVALUATION":
        check = de.asset_check_evaluation_data
        severity = getattr(check, "severity", None)
        return asset_check_evaluation(
            ts,
            step,
            check.asset_key.path,
            check.check_name,
            check.passed,
            getattr(severity, "value", None),
            getattr(check, "partition", None),
            metadata_of(check.metadata),
        )
    message = de.message or entry.user_message or ""
    if kind != "ENGINE_EVENT":
        message = f"{kind}: {message}"
    return engine_event(ts, step, message)


def metadata_of(metadata):
    return {str(k): jsonable(getattr(v, "value", v)) for k, v in (metadata or {}).items()}


def error_of_serializable(err, fallback):
    """The user's error: the innermost cause of Dagster's wrapped error, with its traceback."""
    if err is None:
        return {"message": fallback or "the run failed"}
    inner = err
    while getattr(inner, "cause", None) is not None:
        inner = inner.cause
    message = (inner.message or "").strip()
    cls = getattr(inner, "cls_name", None)
    if cls and message.startswith(f"{cls}: "):
        message = message[len(cls) + 2 :]
    stack = [line.rstrip("\n") for line in (inner.stack or [])]
    return error(message or (fallback or ""), cls, stack)


def error_of_exception(exc):
    stack = [line.rstrip("\n") for line in traceback.format_tb(exc.__traceback__)]
    cls = type(exc)
    name = cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    return error(str(exc), name, stack)


# ---------------------------------------------------------------------------------------------
# Samples

# What `dagster.serialize_value` (dagster 1.13.27) wrote for the `LOG` sample's `EventLogEntry`.
SAMPLE_DAGSTER = (
    '{"__class__": "EventLogEntry", "dagster_event": null, "error_info": null, "level": 20, '
    '"message": "", "pipeline_name": "__ASSET_JOB", "run_id": '
    '"0c5a1c52-5c3e-4bd5-a0a5-7d1c2b1f0f00", "step_key": "s", "timestamp": 1700000000.25, '
    '"user_message": "careful"}'
)


def samples():
    """One message of every kind and one event of every type, built by the functions above: the
    host's tests parse them with its own types (`dg-runs/src/wire.rs`)."""
    ts = 1700000000.25
    failure = error("boom", "ValueError", ["  File \"x.py\", line 1, in f"])
    events = [plain(kind, ts, "s" if kind.startswith("STEP") else None) for kind in PLAIN_EVENTS]
    events += [
        step_success(ts, "s", 12.5),
        step_success(ts, "s", None),
        step_failure(ts, "s", failure),
        run_failure(ts, error("no stack")),
        asset_materialization(ts, "s", ["a", "b"], None, {"rows": 3, "note": "x"}),
        asset_materialization(ts, "s", ["a"], "2024-01-01", {}),
        asset_observation(ts, "s", ["a"], None, {"v": [1, 2]}),
        asset_check_evaluation(ts, "s", ["a"], "positive", True, "ERROR", None, {}),
        asset_check_evaluation(ts, None, ["a"], "fresh", False, None, "p1", {"m": None}),
        engine_event(ts, None, "started"),
        log(ts, "s", "WARNING", "careful"),
        output("STDOUT", ts, "s", "hello"),
        output("STDERR", ts, None, "oops"),
    ]
    messages = [hello(4242)]
    messages += [
        event_message(seq, event, SAMPLE_DAGSTER if event["type"] == "LOG" else None)
        for seq, event in enumerate(events, start=1)
    ]
    messages.append(end(True))
    return messages


if __name__ == "__main__":
    import json
    import sys

    json.dump(samples(), sys.stdout)
