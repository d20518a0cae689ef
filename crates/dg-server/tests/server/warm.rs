//! Warm-up: agents are cold once loaded (the location is `loaded` and can run, but holds no run
//! machinery), a location's first run warms its agent up in the background, and runs forked from
//! the warm agent (which inherit its run instance) succeed, each with only its own events; a
//! reloaded location that had been run is warmed up again without waiting for a run.

use std::collections::BTreeSet;

use dg_host::locations::LocationStatus;
use dg_storage::{AssetKey, EventKind, RunStatus};

use crate::common::Fixture;

async fn run_alpha(f: &Fixture, selection: &str) -> String {
    let request = dg_runs::RunRequest::new(
        "alpha",
        dg_runs::RunTarget::Assets(vec![AssetKey(vec![selection.to_owned()])]),
    );
    let id = f.state.runs.launch(&f.host, request).await.unwrap();
    assert_eq!(f.wait_run(&id).await, RunStatus::Success, "run {id}");
    id
}

fn warm(f: &Fixture, name: &str) -> bool {
    f.host.location(name).unwrap().warm
}

pub async fn agents_start_cold_and_warm_up_after_their_first_run() {
    let f = Fixture::start().await;
    for loc in f.host.locations() {
        assert_eq!(loc.status, LocationStatus::Loaded);
        assert!(!loc.warm, "no run yet, yet warm: {loc:?}");
    }
    let agent_pid = f.host.location("alpha").unwrap().agent_pid.unwrap();

    // The first run forks from the cold agent, then the agent warms up.
    let first = run_alpha(&f, "alpha_raw").await;
    f.wait_for("alpha warms up", |h| h.location("alpha").unwrap().warm)
        .await;
    assert!(!warm(&f, "beta"), "beta had no run and must stay cold");
    assert_eq!(
        f.host.location("alpha").unwrap().agent_pid,
        Some(agent_pid),
        "warming up keeps the same agent"
    );

    // Runs forked from the warm agent: each succeeds with its own worker and only its events.
    let mut runs = vec![first];
    for asset in ["alpha_clean", "alpha_raw"] {
        runs.push(run_alpha(&f, asset).await);
    }
    let mut workers = BTreeSet::new();
    for id in &runs {
        let run = f.state.storage.get_run(id).await.unwrap().unwrap();
        let worker = run.worker.expect("a worker pid").pid;
        assert_ne!(worker, agent_pid, "run {id} ran in the agent itself");
        workers.insert(worker);
        let events = f
            .state
            .storage
            .events_after(id, None, 10_000)
            .await
            .unwrap();
        assert!(events.iter().all(|e| &e.run_id == id));
        let starts = events
            .iter()
            .filter(|e| matches!(e.event.kind, EventKind::RunStart))
            .count();
        let steps = events
            .iter()
            .filter(|e| matches!(e.event.kind, EventKind::StepStart))
            .count();
        assert_eq!((starts, steps), (1, 1), "run {id}: {events:#?}");
    }
    assert_eq!(workers.len(), runs.len(), "one worker process per run");

    // After a reload, a location that has been run is warmed up again at once; one that has not
    // stays cold.
    assert!(f.host.reload("alpha") && f.host.reload("beta"));
    f.wait_for("both reload", |h| {
        h.locations()
            .iter()
            .all(|l| l.generation == 2 && l.status == LocationStatus::Loaded)
    })
    .await;
    let new_pid = f.host.location("alpha").unwrap().agent_pid;
    assert_ne!(new_pid, Some(agent_pid), "the reload starts a new agent");
    f.wait_for("alpha's new agent warms up", |h| {
        h.location("alpha").unwrap().warm
    })
    .await;
    assert!(!warm(&f, "beta"));
    run_alpha(&f, "alpha_raw").await;
}
