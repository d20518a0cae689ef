//! `context.instance` in our runs is the persistent instance: an asset reads its upstream's latest
//! materialization stored by an earlier run, a run reads back its own earlier events, and a run
//! adds dynamic partitions that a later run materializes one of.

use crate::support::{probe_runs, skip_postgres, Backend, Instance};

#[test]
fn context_instance_is_the_instance_sqlite() {
    context_instance(Backend::Sqlite);
}

#[test]
fn context_instance_is_the_instance_postgres() {
    if skip_postgres() {
        return;
    }
    context_instance(Backend::Postgres);
}

fn context_instance(backend: Backend) {
    let inst = Instance::new(backend);
    inst.launch_ok(&["--assets", "upstream"]);
    let upstream_run = probe_runs(&inst.probe())[0]["run_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // An earlier run's materialization, with its metadata, through context.instance.
    let (_, stderr) = inst.launch_ok(&["--assets", "reads_instance"]);
    assert!(
        stderr.contains(&format!(
            "instance says upstream was materialized by run {upstream_run} with 3 rows"
        )),
        "{stderr}"
    );

    // The same run's earlier events, stored before the read answers.
    let (_, stderr) = inst.launch_ok(&["--assets", "sees_own_run"]);
    assert!(stderr.contains("read back "), "{stderr}");

    // Dynamic partitions added by one run, one of them materialized by a later run.
    let (_, stderr) = inst.launch_ok(&["--assets", "adds_fruits"]);
    assert!(
        stderr.contains("fruits now ['apple', 'banana']"),
        "{stderr}"
    );
    let (_, stderr) = inst.launch_ok(&["--assets", "fruit", "--partition", "banana"]);
    assert!(stderr.contains("fruit banana"), "{stderr}");

    let probe = inst.probe();
    let runs = probe_runs(&probe);
    assert_eq!(runs.len(), 5, "{probe:#}");
    assert!(runs.iter().all(|r| r["status"] == "SUCCESS"), "{probe:#}");
    assert_eq!(
        probe["dynamic_partitions"]["fruits"],
        serde_json::json!(["apple", "banana"])
    );
    assert_eq!(probe["latest_materialization"]["fruit"], runs[4]["run_id"]);
    assert_eq!(runs[4]["tags"]["dagster/partition"], "banana");
}
