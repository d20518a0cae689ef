//! Ours -> Dagster: runs made by our `dg launch` are read by real Dagster on the same home:
//! `DagsterInstance.get()` in a Python with only `dagster` (+ `dagster-postgres` for PostgreSQL),
//! `dagster run list`, real `dagster-webserver`'s GraphQL (`runsOrError`, `logsForRun`,
//! `assetOrError`), and `dagster asset wipe`.

use dg_test::python::{dagster_only_python, shared_python};

use crate::servers::Webserver;
use crate::support::{probe_events, probe_runs, skip_postgres, Backend, Instance};

#[test]
fn dagster_reads_our_runs_sqlite() {
    ours_to_dagster(Backend::Sqlite);
}

#[test]
fn dagster_reads_our_runs_postgres() {
    if skip_postgres() {
        return;
    }
    ours_to_dagster(Backend::Postgres);
}

fn ours_to_dagster(backend: Backend) {
    let inst = Instance::new(backend);
    let (stdout, _) = inst.launch_ok(&["--assets", "upstream,downstream"]);
    assert!(stdout.contains("hello stdout from upstream"), "{stdout}");
    inst.launch_ok(&["--assets", "adds_fruits"]);
    inst.launch_ok(&["--assets", "fruit", "--partition", "apple"]);

    // DagsterInstance.get() with nothing of ours: only dagster on SQLite, and dagster-postgres
    // (the shared environment) on PostgreSQL, as Dagster itself needs.
    let python = match backend {
        Backend::Sqlite => dagster_only_python(),
        Backend::Postgres => shared_python(),
    };
    let probe = inst.probe_with(python);
    let runs = probe_runs(&probe);
    assert_eq!(runs.len(), 3, "{probe:#}");
    let (first, fruit) = (&runs[0], &runs[2]);
    let run_id = first["run_id"].as_str().unwrap().to_owned();
    assert_eq!(first["status"], "SUCCESS", "{first}");
    assert_eq!(first["job_name"], "__ASSET_JOB", "{first}");
    assert_eq!(
        first["asset_selection"],
        serde_json::json!(["downstream", "upstream"])
    );
    assert_eq!(first["has_job_snapshot"], true, "{first}");
    assert_eq!(first["has_execution_plan_snapshot"], true, "{first}");
    assert_eq!(fruit["tags"]["dagster/partition"], "apple", "{fruit}");

    // Every Dagster event as itself, in Dagster's order, none of ours in between.
    let types = probe_events(&probe, &run_id);
    for expected in [
        "ASSET_MATERIALIZATION_PLANNED",
        "PIPELINE_START",
        "STEP_START",
        "STEP_OUTPUT",
        "HANDLED_OUTPUT",
        "ASSET_MATERIALIZATION",
        "LOADED_INPUT",
        "STEP_INPUT",
        "STEP_SUCCESS",
        "PIPELINE_SUCCESS",
    ] {
        assert!(
            types.iter().any(|t| t == expected),
            "{expected} missing: {types:?}"
        );
    }
    assert_eq!(
        types
            .iter()
            .filter(|t| *t == "ASSET_MATERIALIZATION")
            .count(),
        2,
        "{types:?}"
    );
    assert_eq!(types.last().map(String::as_str), Some("PIPELINE_SUCCESS"));
    let logs = probe["events"][&run_id].as_array().unwrap();
    assert!(
        logs.iter()
            .any(|e| e["message"] == "downstream got [1, 2, 3]"),
        "{logs:?}"
    );
    assert_eq!(probe["latest_materialization"]["upstream"], run_id.as_str());
    assert_eq!(
        probe["latest_materialization"]["downstream"],
        run_id.as_str()
    );
    assert_eq!(
        probe["dynamic_partitions"]["fruits"],
        serde_json::json!(["apple", "banana"])
    );

    let (listed, _) = inst.dagster_ok(&["run", "list"]);
    for run in &runs {
        let id = run["run_id"].as_str().unwrap();
        assert!(listed.contains(&format!("Run: {id}")), "{listed}");
    }

    {
        let web = Webserver::start(&inst);
        let data = web.graphql(
            "{ runsOrError { __typename ... on Runs { results { runId status jobName \
             tags { key value } } } } }",
        );
        let results = data["runsOrError"]["results"].as_array().unwrap().clone();
        assert_eq!(results.len(), 3, "{data}");
        let ours = results
            .iter()
            .find(|r| r["runId"] == run_id.as_str())
            .unwrap_or_else(|| panic!("{run_id} not in {data}"));
        assert_eq!(ours["status"], "SUCCESS", "{ours}");
        assert!(
            results.iter().any(|r| r["tags"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["key"] == "dagster/partition" && t["value"] == "apple")),
            "{data}"
        );

        let data = web.graphql(&format!(
            "{{ logsForRun(runId: \"{run_id}\") {{ __typename ... on EventConnection {{ \
             events {{ __typename ... on MessageEvent {{ message }} }} }} }} }}"
        ));
        assert_eq!(
            data["logsForRun"]["__typename"], "EventConnection",
            "{data}"
        );
        let events = data["logsForRun"]["events"].as_array().unwrap();
        let kinds: Vec<&str> = events
            .iter()
            .map(|e| e["__typename"].as_str().unwrap())
            .collect();
        for expected in [
            "RunStartEvent",
            "ExecutionStepStartEvent",
            "ExecutionStepOutputEvent",
            "HandledOutputEvent",
            "MaterializationEvent",
            "LoadedInputEvent",
            "ExecutionStepSuccessEvent",
            "RunSuccessEvent",
        ] {
            assert!(kinds.contains(&expected), "{expected} missing: {kinds:?}");
        }
        assert!(
            events.iter().any(|e| e["__typename"] == "LogMessageEvent"
                && e["message"] == "downstream got [1, 2, 3]"),
            "{data}"
        );

        let data = web.graphql(
            "{ assetOrError(assetKey: {path: [\"upstream\"]}) { __typename ... on Asset { \
             assetMaterializations(limit: 5) { runId } } } }",
        );
        assert_eq!(data["assetOrError"]["__typename"], "Asset", "{data}");
        assert_eq!(
            data["assetOrError"]["assetMaterializations"][0]["runId"],
            run_id.as_str(),
            "{data}"
        );
    }

    // Dagster's own maintenance works on our instance, and ours goes on after it.
    inst.dagster_ok(&["asset", "wipe", "--all", "--noprompt"]);
    let probe = inst.probe();
    assert_eq!(
        probe["latest_materialization"],
        serde_json::json!({}),
        "{probe:#}"
    );
    inst.launch_ok(&["--assets", "upstream"]);
    let probe = inst.probe();
    let runs = probe_runs(&probe);
    assert_eq!(runs.len(), 4, "{probe:#}");
    assert_eq!(
        probe["latest_materialization"]["upstream"], runs[3]["run_id"],
        "{probe:#}"
    );
}
