"""Loading a small definitions module into a snapshot, and the errors of user code, through a
real agent process and real `dagster`."""

import os

from _dg_agent.protocol import SNAPSHOT_SCHEMA_VERSION
from conftest import AGENT_HOME, write_project

DEFINITIONS = """
    import os

    import dagster as dg


    @dg.asset(group_name="raw", kinds={"python"}, description="the first")
    def a():
        return 1


    @dg.asset(deps=[a], tags={"t": "v"}, metadata={"n": 3})
    def b():
        return 2


    @dg.asset_check(asset=b)
    def b_positive():
        return dg.AssetCheckResult(passed=True)


    # What user code sees of the environment the agent was started with.
    print("PYTHONPATH=" + os.environ.get("PYTHONPATH", "<unset>"))

    defs = dg.Definitions(
        assets=[a, b],
        asset_checks=[b_positive],
        jobs=[dg.define_asset_job("all_assets", selection="*")],
        schedules=[dg.ScheduleDefinition(name="daily", cron_schedule="0 0 * * *", job_name="all_assets")],
    )
"""


def test_a_definitions_module_becomes_a_snapshot(start_agent, tmp_path):
    target = write_project(tmp_path, "small_project", DEFINITIONS)
    agent, _ = start_agent(tmp_path, {"PYTHONPATH": "/user/lib"})
    answer = agent.request("load", target=target)
    assert answer["type"] == "loaded", answer
    snapshot = answer["snapshot"]
    assert snapshot["schema_version"] == SNAPSHOT_SCHEMA_VERSION
    assert snapshot["loaded_from"] == {
        "module": "small_project.definitions",
        "kind": "definitions_object",
        "attribute": "defs",
    }
    assets = {"/".join(asset["key"]): asset for asset in snapshot["assets"]}
    assert sorted(assets) == ["a", "b"]
    assert assets["a"]["group_name"] == "raw"
    assert assets["a"]["kinds"] == ["python"]
    assert assets["a"]["description"] == "the first"
    assert assets["b"]["deps"] == [["a"]]
    assert assets["b"]["tags"] == {"t": "v"}
    assert assets["b"]["metadata"]["n"]["value"] == 3
    assert "all_assets" in assets["a"]["job_names"]
    assert assets["a"]["targeting_schedule_names"] == ["daily"]
    assert [(c["asset_key"], c["name"]) for c in snapshot["asset_checks"]] == [(["b"], "b_positive")]
    assert [j["name"] for j in snapshot["jobs"]] == ["all_assets"]
    assert snapshot["schedules"][0]["cron_schedule"] == ["0 0 * * *"]
    assert snapshot["dagster_version"]
    out, _ = agent.close()
    # The agent's own folder was put first on PYTHONPATH for it only: user code sees the user's.
    assert "PYTHONPATH=/user/lib\n" in out
    assert str(AGENT_HOME) not in out


def test_an_import_error_is_reported_with_its_traceback(start_agent, tmp_path):
    target = write_project(
        tmp_path,
        "broken_import",
        """
        import dagster as dg

        from broken_import.helpers import does_not_exist
        """,
        files={"helpers.py": "x = 1\n"},
    )
    agent, _ = start_agent(tmp_path)
    answer = agent.request("load", target=target)
    assert answer["type"] == "load_failed", answer
    error = answer["error"]
    assert error["kind"] == "import"
    assert error["exc_type"] == "ImportError"
    assert "does_not_exist" in error["message"]
    user = [f for f in error["frames"] if f["origin"] == "user"]
    assert user[-1]["file"].endswith(os.path.join("broken_import", "definitions.py"))
    assert user[-1]["line"] == 4
    assert user[-1]["code"] == "from broken_import.helpers import does_not_exist"
    # The agent's own frames are marked as such (the host folds them away).
    agent_frames = [f for f in error["frames"] if f["origin"] == "agent"]
    assert agent_frames and all("_dg_agent" in f["file"] for f in agent_frames)
    # The agent keeps serving after a failed load.
    assert agent.request("ping")["type"] == "pong"


def test_a_syntax_error_names_the_line_and_column(start_agent, tmp_path):
    target = write_project(tmp_path, "bad_syntax", "import dagster\n\ndef broken(:\n    pass\n")
    agent, _ = start_agent(tmp_path)
    error = agent.request("load", target=target)["error"]
    assert error["kind"] == "syntax"
    assert error["syntax"]["line"] == 3
    assert error["syntax"]["text"] == "def broken(:"
    assert error["syntax"]["file"].endswith("definitions.py")


def test_a_missing_module_names_it(start_agent, tmp_path):
    target = write_project(tmp_path, "needs_pkg", "import pandas_is_not_installed_here\n")
    agent, _ = start_agent(tmp_path)
    error = agent.request("load", target=target)["error"]
    assert error["kind"] == "missing_module"
    assert error["module_name"] == "pandas_is_not_installed_here"


def test_a_module_without_definitions_says_so(start_agent, tmp_path):
    target = write_project(tmp_path, "empty_project", "x = 1\n")
    agent, _ = start_agent(tmp_path)
    error = agent.request("load", target=target)["error"]
    assert error["kind"] == "no_definitions"
    assert error["exc_type"] == "_dg_agent.errors.DefinitionsNotFound"
