//! One load of one location, on its own thread: resolve the project's environment, start a fresh
//! agent, import the code, and swap the result in, unless a newer load was requested meanwhile.
//!
//! On success the new agent becomes the location's agent (the location is `loaded` and can run at
//! once) and the old one is shut down; on failure the location is marked failed with the
//! traceback, its old agent is stopped (it holds code that no longer matches the files) and the
//! last good snapshot stays for display.
//!
//! The new agent starts cold: it holds the definitions, not Dagster's run machinery (a third more
//! memory per location). [`Host::warm_up`] warms it when the location gets its first run, or at
//! once when it replaces an agent that was warm (a location being worked on after a code change).

use std::sync::Arc;
use std::time::Instant;

use dg_config::Diagnostic;
use dg_location::{LoadError, LocationSpec};
use dg_python::PythonEnvironment;
use dg_runs::{RunError, WarmAgent};

use super::{Host, LocationError, LocationStatus};

/// Loads `spec` for load request number `request` and records the outcome.
pub(super) fn run(host: &Host, spec: LocationSpec, request: u64) {
    let started = Instant::now();
    let result = load(host, &spec);
    let seconds = started.elapsed().as_secs_f64();
    let mut rewarm = false;
    let retired = {
        let mut entries = host.inner.entries.write().expect("host lock");
        let Some(entry) = entries.get_mut(&spec.name) else {
            return;
        };
        if entry.requested != request || host.is_closed() {
            // A newer request (or shutdown) superseded this load; its agent is dropped (killed).
            return;
        }
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
    if let Some(old) = retired {
        // A run being forked holds it a moment longer; the last holder's drop kills its group.
        if let Ok(agent) = Arc::try_unwrap(old) {
            agent.shutdown();
        }
    }
    host.rebuild_view();
    host.notify_location(&spec.name);
    if rewarm {
        host.warm_up(&spec.name);
    }
}

/// Starts the location's agent and loads its definitions (runs can fork from it at once).
fn load(host: &Host, spec: &LocationSpec) -> Result<WarmAgent, RunError> {
    let options = &host.inner.options;
    let env = PythonEnvironment::resolve(&spec.name, &spec.root, &options.env)
        .map_err(|e| RunError::Load(LoadError::from(e)))?;
    WarmAgent::load(spec, &env, None, options.timeout)
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
