//! One load of one location, on its own thread: resolve the project's environment, start a fresh
//! agent, import the code, and swap the result in, unless a newer load was requested meanwhile.
//!
//! On success the new agent becomes the location's agent (the location is `loaded` and can run at
//! once) and the new snapshot is shown at once; on failure the location is marked failed with the
//! traceback and the last good snapshot stays for display. Either way the old agent (it holds code
//! that no longer matches the files) is retired afterwards, on a thread of its own: it may take a
//! moment, and nothing waits for it. Runs it forked are their own processes and go on.
//!
//! A load superseded by a newer request is cancelled: the agent it started (spawned in the load's
//! [`Scope`]) is killed. The environment's `uv sync` is left to finish (killing it again at every
//! save could keep a slow first sync from ever completing); the load stops right after it.
//!
//! The new agent starts cold: it holds the definitions, not Dagster's run machinery (a third more
//! memory per location). [`Host::warm_up`] warms it when the location gets its first run, or at
//! once when it replaces an agent that was warm (a location being worked on after a code change).

use std::sync::Arc;
use std::time::Instant;

use dg_core::Diagnostic;
use dg_location::{LoadError, LocationSpec};
use dg_python::process::Scope;
use dg_python::PythonEnvironment;
use dg_runs::{RunError, WarmAgent};

use super::{Host, LocationError, LocationStatus};

/// Loads `spec` for load request number `request`, spawning its agent in `scope`, and records the
/// outcome.
pub(super) fn run(host: &Host, spec: LocationSpec, request: u64, scope: Scope) {
    let started = Instant::now();
    let result = load(host, &spec, request, &scope);
    let seconds = started.elapsed().as_secs_f64();
    let mut rewarm = false;
    let retired = {
        let mut entries = host.inner.entries.write().expect("host lock");
        let Some(entry) = entries.get_mut(&spec.name) else {
            return;
        };
        // Released under the lock: from here on a newer request no longer kills this agent.
        if entry.requested != request || host.is_closed() || !scope.release() {
            // A newer request (or shutdown) superseded this load; its agent is dropped (killed).
            return;
        }
        entry.loading = None;
        entry.generation += 1;
        match result {
            Ok(agent) => {
                entry.status = LocationStatus::Loaded;
                entry.error = None;
                entry.load_seconds = Some(seconds);
                entry.loaded_at = Some(dg_storage::now());
                entry.agent_pid = Some(agent.pid());
                entry.snapshot = Some(Arc::new(agent.snapshot().clone()));
                // A location that has been run gets its new agent warmed up at once.
                rewarm = entry.warm || entry.warming;
                entry.warm = false;
                entry.warming = false;
                entry.agent.replace(Arc::new(agent))
            }
            Err(err) => {
                entry.status = LocationStatus::Failed;
                entry.error = Some(describe(&err));
                entry.agent_pid = None;
                entry.warm = false;
                entry.warming = false;
                entry.agent.take()
            }
        }
    };
    host.rebuild_view();
    host.notify_location(&spec.name);
    if let Some(old) = retired {
        retire(&spec.name, old);
    }
    if rewarm {
        host.warm_up(&spec.name);
    }
}

/// Starts the location's agent and loads its definitions (runs can fork from it at once).
fn load(
    host: &Host,
    spec: &LocationSpec,
    request: u64,
    scope: &Scope,
) -> Result<WarmAgent, RunError> {
    let options = &host.inner.options;
    let env = PythonEnvironment::resolve(&spec.name, &spec.root, &options.env)
        .map_err(|e| RunError::Load(LoadError::from(e)))?;
    let superseded = host
        .inner
        .entries
        .read()
        .expect("host lock")
        .get(&spec.name)
        .is_none_or(|e| e.requested != request);
    if superseded || scope.is_canceled() || host.is_closed() {
        return Err(RunError::Rejected {
            location: spec.name.clone(),
            message: "a newer load of this location was requested".into(),
        });
    }
    let _in_scope = scope.enter();
    WarmAgent::load(spec, &env, None, options.timeout)
}

/// Asks the retired agent to exit, on a thread of its own: its forked runs may hold its output
/// for as long as they run, and nothing may wait for that.
fn retire(name: &str, old: Arc<WarmAgent>) {
    let _ = std::thread::Builder::new()
        .name(format!("retire-{name}"))
        .spawn(move || {
            // A run being forked holds it a moment longer; the last holder's drop kills its group.
            if let Ok(agent) = Arc::try_unwrap(old) {
                agent.shutdown();
            }
        });
}

/// The error as the UI shows it: message, traceback, hint.
pub(crate) fn describe(err: &RunError) -> LocationError {
    match err {
        RunError::Load(load) => LocationError {
            message: load.to_string(),
            traceback: load.details(false),
            hint: load.hint(),
        },
        other => LocationError {
            message: other.to_string(),
            traceback: None,
            hint: other.hint(),
        },
    }
}
