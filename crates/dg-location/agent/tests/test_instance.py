"""Runs execute with the instance home's persistent `DagsterInstance`: user code reads through
`context.instance` what earlier runs and the same run stored (the host stores each event through
real Dagster storage before acknowledging it), dynamic partitions carry over, the host's run is
adopted, compute logs and outputs land where Dagster puts them, and the failures say why."""

import json
import os
import uuid
from pathlib import Path

import pytest

from conftest import write_project
from host import Host

DEFINITIONS = r"""
    import os

    import dagster as dg

    parts = dg.DynamicPartitionsDefinition(name="parts")


    @dg.asset
    def upstream(context):
        print("upstream prints")
        return 41


    @dg.asset
    def downstream(context, upstream):
        # The upstream's latest materialization, through the instance: from an earlier run, or
        # from this same run when both are selected.
        event = context.instance.get_latest_materialization_event(dg.AssetKey("upstream"))
        assert event is not None, "no materialization of upstream in the instance"
        context.add_output_metadata({"upstream_run": event.run_id, "value": upstream + 1})
        return upstream + 1


    @dg.asset
    def add_parts(context):
        context.instance.add_dynamic_partitions("parts", ["a", "b"])
        return 0


    @dg.asset(partitions_def=parts)
    def parted(context):
        context.add_output_metadata({"key": context.partition_key})
        return context.partition_key


    @dg.asset
    def same_home(context):
        home = dg.DagsterInstance.get().root_directory
        context.add_output_metadata({"home": home, "env": os.environ["DAGSTER_HOME"]})
        return 1


    @dg.asset
    def chatty(context):
        # Written to the descriptor right before the step ends: every line must still reach both
        # the host, before the step's end, and the compute-log file.
        os.write(1, "".join(f"line {i}\n" for i in range(500)).encode())
        # Descriptor 1 stays the worker's capture pipe (Dagster's own capture would make it the
        # compute-log file, followed by `tail -F`).
        import stat

        context.add_output_metadata({"stdout_is_pipe": stat.S_ISFIFO(os.fstat(1).st_mode)})
        return 1


    defs = dg.Definitions(assets=[upstream, downstream, add_parts, parted, same_home, chatty])
"""


@pytest.fixture
def project(tmp_path):
    target = write_project(tmp_path, "inst", DEFINITIONS)
    home = tmp_path / "home"
    home.mkdir()
    return target, home


def start(start_agent, tmp_path, target, home, warm=False, env=None):
    agent, _ = start_agent(tmp_path, env)
    assert agent.request("load", target=target)["type"] == "loaded"
    if warm:
        assert agent.request("warm_up", instance_home=str(home))["type"] == "warmed_up"
    return agent


def run(agent, tmp_path, home, assets, partition=None, fork=False, host=None, run_id=None):
    """Executes one run of `assets` against a host storing into `home`; returns the host."""
    sock = tmp_path / f"run-{uuid.uuid4().hex[:8]}.sock"
    host = host or Host(sock, home=home)
    spec = {
        "run_id": run_id or str(uuid.uuid4()),
        "events_socket": host.path,
        "instance_home": str(home),
        "asset_selection": [[a] for a in assets],
        "job_name": None,
        "partition": partition,
        "partition_range": None,
        "run_config": {},
        "tags": {},
    }
    answer = agent.request("fork_run" if fork else "execute_run", run=spec)
    assert answer["type"] == ("run_forked" if fork else "run_finished"), answer
    host.wait()
    host.run_id = spec["run_id"]
    return host


def materialization(host, key):
    found = [e for e in host.events() if e["type"] == "ASSET_MATERIALIZATION" and e["asset_key"] == [key]]
    assert len(found) == 1, (host.failure_messages(), [e["type"] for e in host.events()])
    return found[0]


def succeeded(host):
    assert host.messages[-1] == {"t": "end", "success": True}, host.failure_messages()


@pytest.mark.parametrize("fork", [False, True], ids=["in-agent", "forked"])
def test_an_asset_reads_its_upstreams_materialization_from_an_earlier_run(
    start_agent, tmp_path, project, fork
):
    target, home = project
    agent = start(start_agent, tmp_path, target, home, warm=fork)
    first = run(agent, tmp_path, home, ["upstream"], fork=fork)
    succeeded(first)
    second = run(agent, tmp_path, home, ["downstream"], fork=fork)
    succeeded(second)
    metadata = materialization(second, "downstream")["metadata"]
    assert metadata["upstream_run"] == first.run_id
    # The input came from Dagster's default place for outputs under the instance.
    assert metadata["value"] == 42
    assert (home / "storage" / "upstream").is_file()
    # Real Dagster reads both runs as finished.
    runs = {r.run_id: r.status.value for r in second.instance.get_runs()}
    assert runs == {first.run_id: "SUCCESS", second.run_id: "SUCCESS"}


def test_a_downstream_sees_its_upstreams_materialization_of_the_same_run(start_agent, tmp_path, project):
    target, home = project
    agent = start(start_agent, tmp_path, target, home)
    host = run(agent, tmp_path, home, ["upstream", "downstream"])
    succeeded(host)
    assert materialization(host, "downstream")["metadata"]["upstream_run"] == host.run_id


def test_a_run_adds_dynamic_partitions_and_a_later_run_executes_one(start_agent, tmp_path, project):
    target, home = project
    agent = start(start_agent, tmp_path, target, home, warm=True)
    succeeded(run(agent, tmp_path, home, ["add_parts"], fork=True))
    later = run(agent, tmp_path, home, ["parted"], partition="b", fork=True)
    succeeded(later)
    event = materialization(later, "parted")
    assert event["partition"] == "b" and event["metadata"]["key"] == "b"
    assert later.instance.get_dynamic_partitions("parts") == ["a", "b"]


def test_user_codes_instance_is_the_same_home(start_agent, tmp_path, project):
    target, home = project
    agent = start(start_agent, tmp_path, target, home)
    host = run(agent, tmp_path, home, ["same_home"])
    succeeded(host)
    metadata = materialization(host, "same_home")["metadata"]
    assert metadata["home"] == metadata["env"] == str(home)


def test_stdout_reaches_the_host_and_dagsters_compute_log_files(start_agent, tmp_path, project):
    target, home = project
    agent = start(start_agent, tmp_path, target, home, warm=True)
    host = run(agent, tmp_path, home, ["upstream"], fork=True)
    succeeded(host)
    stdout = [e for e in host.events() if e["type"] == "STDOUT"]
    assert [(e["text"], e["step_key"]) for e in stdout] == [("upstream prints", "upstream")]
    # Dagster's LOGS_CAPTURED event names the file key; its files are where Dagster's local
    # compute log manager keeps them, complete.
    captured = [e for e in host.events() if e["type"] == "ENGINE_EVENT" and "LOGS_CAPTURED" in e["message"]]
    assert len(captured) == 1, [e["type"] for e in host.events()]
    logs = home / "storage" / host.run_id / "compute_logs"
    outs = list(logs.glob("*.out"))
    assert len(outs) == 1, list(logs.iterdir())
    assert outs[0].read_text() == "upstream prints\n"
    assert outs[0].with_suffix(".err").exists()
    assert outs[0].with_suffix(".complete").exists()
    # And Dagster reads them back through its own manager.
    manager = host.instance.compute_log_manager
    data = manager.get_log_data([host.run_id, "compute_logs", outs[0].stem])
    assert data.stdout == b"upstream prints\n"


def test_output_right_before_a_step_ends_is_neither_late_nor_lost(start_agent, tmp_path, project):
    target, home = project
    agent = start(start_agent, tmp_path, target, home)
    host = run(agent, tmp_path, home, ["chatty"])
    succeeded(host)
    types = [e["type"] for e in host.events()]
    lines = [e["text"] for e in host.events() if e["type"] == "STDOUT"]
    expected = [f"line {i}" for i in range(500)]
    assert lines == expected
    last_line = max(i for i, t in enumerate(types) if t == "STDOUT")
    assert last_line < types.index("STEP_SUCCESS")
    assert materialization(host, "chatty")["metadata"]["stdout_is_pipe"] is True
    (out,) = (home / "storage" / host.run_id / "compute_logs").glob("*.out")
    assert out.read_text().splitlines() == expected


def test_the_host_keeps_its_run_status_and_tags(start_agent, tmp_path, project):
    target, home = project
    agent = start(start_agent, tmp_path, target, home)
    # A host that stores events but never updates the run's status: the worker must not either.
    host = Host(tmp_path / "run.sock", home=home, run_status=False)
    run_id = str(uuid.uuid4())
    host.create_run(run_id, status="STARTING", tags={"dg/launched_by": "test"})
    run(agent, tmp_path, home, ["upstream"], host=host, run_id=run_id)
    succeeded(host)
    stored = host.instance.get_run_by_id(run_id)
    assert stored.status.value == "STARTING"
    assert stored.tags["dg/launched_by"] == "test"
    # Dagster's snapshots of the run are stored with it.
    assert stored.job_snapshot_id and stored.execution_plan_snapshot_id
    assert host.instance.get_job_snapshot(stored.job_snapshot_id) is not None
    assert host.instance.get_execution_plan_snapshot(stored.execution_plan_snapshot_id) is not None
    assert stored.asset_selection == {__import__("dagster").AssetKey("upstream")}


def test_a_host_that_stores_nothing_fails_reads_after_the_timeout(start_agent, tmp_path, project):
    target, home = project
    agent = start(start_agent, tmp_path, target, home, env={"DG_AGENT_ACK_TIMEOUT": "1"})
    host = Host(tmp_path / "run.sock", home=None, ack=False)
    run(agent, tmp_path, home, ["downstream"], host=host)
    assert host.messages[-1] == {"t": "end", "success": False}
    assert any("the host is not storing events" in m for m in host.failure_messages()), (
        host.failure_messages()
    )


@pytest.mark.parametrize("fork", [False, True], ids=["in-agent", "forked"])
def test_postgres_without_dagster_postgres_names_the_package_and_the_fix(
    start_agent, tmp_path, project, fork
):
    pytest.importorskip("dagster")
    try:
        import dagster_postgres  # noqa: F401

        pytest.skip("this environment has dagster-postgres")
    except ImportError:
        pass
    target, home = project
    (home / "dagster.yaml").write_text(
        "storage:\n  postgres:\n    postgres_url: postgresql://postgres@127.0.0.1:5432/none\n"
    )
    agent = start(start_agent, tmp_path, target, home, warm=fork)
    host = Host(tmp_path / "run.sock", home=None)
    run(agent, tmp_path, home, ["upstream"], fork=fork, host=host)
    assert host.messages[-1] == {"t": "end", "success": False}
    (message,) = host.failure_messages()
    assert "dagster-postgres" in message
    assert "uv add dagster-postgres" in message
    assert str(Path(home) / "dagster.yaml") in message


def test_dagster_internals_that_moved_fail_clearly():
    from _dg_agent import instance

    with pytest.raises(instance.Unsupported, match="_event_storage"):
        instance.patch(object())


def test_every_event_carries_dagsters_text(start_agent, tmp_path, project):
    target, home = project
    agent = start(start_agent, tmp_path, target, home)
    host = run(agent, tmp_path, home, ["upstream"])
    succeeded(host)
    types = set()
    for m in host.messages:
        if m.get("t") == "event" and "dagster" in m:
            entry = json.loads(m["dagster"])
            if entry["dagster_event"]:
                types.add(entry["dagster_event"]["event_type_value"])
    # Stored as themselves, not as engine events.
    for kind in ("STEP_OUTPUT", "HANDLED_OUTPUT", "LOGS_CAPTURED", "ASSET_MATERIALIZATION"):
        assert kind in types, types
    assert os.path.isdir(home / "history" / "runs")


def test_this_dagster_is_supported(tmp_path, monkeypatch):
    """The supported Dagster versions (the pinned one, and the compatibility pass's) have the
    internals `instance` changes: opening an instance swaps all three classes."""
    import dagster
    from dagster._core.storage.event_log.base import EventLogStorage
    from dagster._core.storage.runs.base import RunStorage

    from _dg_agent import instance

    monkeypatch.setenv("DAGSTER_HOME", "/nonexistent")
    home = tmp_path / "home"
    home.mkdir()
    opened = instance.open_instance(str(home))
    assert os.environ["DAGSTER_HOME"] == str(home)
    events, runs = opened.event_log_storage, opened.run_storage
    assert type(events).__name__.startswith("Dg") and isinstance(events, EventLogStorage)
    assert type(runs).__name__.startswith("Dg") and isinstance(runs, RunStorage)
    assert type(opened.compute_log_manager).__name__.startswith("Dg")
    # Unattached, it refuses to store events rather than writing them behind the host's back.
    with pytest.raises(RuntimeError, match="no run is attached"):
        events.store_event(None)
    assert dagster.__version__
