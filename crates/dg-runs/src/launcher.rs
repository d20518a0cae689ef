//! Where a run's worker comes from.
//!
//! - [`Launcher::Fresh`]: an agent started for this run (see [`start_agent`]) executes the run in
//!   its own process and is shut down afterwards. What `dg launch` uses: no warm agent exists yet.
//! - [`Launcher::Warm`]: a long-lived [`WarmAgent`] (loaded, warmed up by one throwaway execution)
//!   forks a worker per run in milliseconds and keeps serving. What `dg dev` keeps per location.
//!
//! Either way the worker is the leader of its own process group, so signalling the group reaches
//! everything user code started. A forked worker gets its group from the agent before the agent
//! reports its pid, and [`signal_worker`] signals a group only when the worker leads it: a worker
//! caught before its `setpgid` is still in the agent's group, which must never be signalled.
//! Forked workers are tracked like the host's own children ([`dg_python::process::adopt_group`]),
//! so a host that exits ends them too.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dg_location::protocol::{Request, Response, RunSpec};
use dg_location::{Agent, DefinitionsSnapshot, LoadError, LocationSpec};
use dg_python::process::LineSink;
use dg_python::PythonEnvironment;
use tokio::sync::oneshot;

use crate::error::RunError;

/// How long an agent may take to execute a run in-process before the host gives up waiting
/// (runs are ended by cancellation, not by this).
const RUN_TIMEOUT: Duration = Duration::from_secs(60 * 60 * 24 * 365);

/// Starts the embedded agent for `spec` in `env` and loads the location's definitions.
pub fn start_agent(
    spec: &LocationSpec,
    env: &PythonEnvironment,
    sink: Option<LineSink>,
    timeout: Duration,
) -> Result<(Agent, DefinitionsSnapshot), LoadError> {
    let mut agent = Agent::start(&spec.name, env, sink, timeout)?;
    let snapshot = agent.load(&spec.load_target(), timeout)?;
    Ok((agent, snapshot))
}

/// How a run's worker is started.
pub enum Launcher {
    /// This loaded agent executes the run itself (consumed: one run per fresh agent).
    Fresh(Box<Agent>),
    /// This warm agent forks a worker for the run.
    Warm(Arc<WarmAgent>),
}

/// How a worker ended, as far as its launcher can tell.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum WorkerExit {
    /// The agent reported the run finished (fresh), or the forked worker is gone (warm; whether it
    /// finished is told by its `end` message).
    Exited { success: Option<bool> },
    /// The worker's process died without finishing (a signal, `os._exit`, a crash).
    Died { status: String, stderr: String },
    /// The agent refused the run.
    Rejected { message: String },
}

/// A worker launched for one run.
pub(crate) struct LaunchedWorker {
    /// The worker's pid (the agent's for a fresh launch).
    pub pid: u32,
    /// Resolves once the worker's process is over.
    pub exit: oneshot::Receiver<WorkerExit>,
}

impl Launcher {
    /// Starts the worker for `run`.
    pub(crate) fn launch(self, location: &str, run: RunSpec) -> Result<LaunchedWorker, RunError> {
        match self {
            Launcher::Fresh(agent) => Ok(launch_fresh(*agent, run)),
            Launcher::Warm(warm) => {
                let pid = warm.fork(location, run)?;
                let tracked = dg_python::process::adopt_group(pid);
                let (tx, rx) = oneshot::channel();
                std::thread::spawn(move || {
                    let _tracked = tracked;
                    while dg_storage::pid_alive(pid) {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    let _ = tx.send(WorkerExit::Exited { success: None });
                });
                Ok(LaunchedWorker { pid, exit: rx })
            }
        }
    }
}

fn launch_fresh(mut agent: Agent, run: RunSpec) -> LaunchedWorker {
    let pid = agent.info().pid;
    let (tx, rx) = oneshot::channel();
    std::thread::spawn(move || {
        let exit = match agent.request(Request::ExecuteRun { run }, RUN_TIMEOUT) {
            Ok(Response::RunFinished { success, .. }) => WorkerExit::Exited {
                success: Some(success),
            },
            Ok(Response::RunRejected { error }) => WorkerExit::Rejected {
                message: error.summary(),
            },
            Ok(other) => WorkerExit::Rejected {
                message: format!("unexpected answer `{}`", other.kind()),
            },
            Err(LoadError::Crashed { status, stderr, .. }) => WorkerExit::Died { status, stderr },
            Err(other) => WorkerExit::Died {
                status: other.to_string(),
                stderr: String::new(),
            },
        };
        if matches!(exit, WorkerExit::Died { .. }) {
            drop(agent);
        } else {
            let _ = agent.shutdown(Duration::from_secs(2));
        }
        let _ = tx.send(exit);
    });
    LaunchedWorker { pid, exit: rx }
}

/// A loaded agent kept alive to fork run workers; warmed up once so forked runs skip Dagster's
/// lazy first-execution cost.
pub struct WarmAgent {
    agent: Mutex<Agent>,
    snapshot: DefinitionsSnapshot,
    /// Kept outside the lock, which a warm-up holds for seconds.
    pid: u32,
}

impl WarmAgent {
    /// Starts, loads and warms up the agent of `spec`.
    pub fn start(
        spec: &LocationSpec,
        env: &PythonEnvironment,
        sink: Option<LineSink>,
        timeout: Duration,
    ) -> Result<Self, RunError> {
        let warm = Self::load(spec, env, sink, timeout)?;
        warm.warm_up(&spec.name, None, timeout)?;
        Ok(warm)
    }

    /// Starts the agent of `spec` and loads its definitions, without warming it up: it can fork
    /// runs at once (the first ones import what the warm-up would have); call
    /// [`WarmAgent::warm_up`] when there is time.
    pub fn load(
        spec: &LocationSpec,
        env: &PythonEnvironment,
        sink: Option<LineSink>,
        timeout: Duration,
    ) -> Result<Self, RunError> {
        let (agent, snapshot) = start_agent(spec, env, sink, timeout)?;
        Ok(Self {
            pid: agent.info().pid,
            agent: Mutex::new(agent),
            snapshot,
        })
    }

    /// Executes a throwaway run in the agent so that forked runs skip Dagster's lazy imports, and
    /// makes the run instance of `instance_home` (the home runs will use) for forks to inherit.
    /// Runs forked meanwhile wait for it (the agent answers one request at a time).
    pub fn warm_up(
        &self,
        location: &str,
        instance_home: Option<&Path>,
        timeout: Duration,
    ) -> Result<(), RunError> {
        let request = Request::WarmUp {
            instance_home: instance_home.map(Path::to_path_buf),
        };
        let mut agent = self.agent.lock().expect("agent lock");
        match agent.request(request, timeout)? {
            Response::WarmedUp => Ok(()),
            Response::RunRejected { error } => Err(RunError::Rejected {
                location: location.to_owned(),
                message: error.summary(),
            }),
            other => Err(RunError::Rejected {
                location: location.to_owned(),
                message: format!("unexpected answer `{}` to `warm_up`", other.kind()),
            }),
        }
    }

    /// The definitions the agent loaded.
    pub fn snapshot(&self) -> &DefinitionsSnapshot {
        &self.snapshot
    }

    /// The agent's pid.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Kills the agent's process group now, even while a request (a warm-up) is in flight: for a
    /// host that stops while another thread still holds this agent. Forked run workers lead their
    /// own groups and are not touched.
    pub fn kill(&self) {
        signal_worker(self.pid, libc::SIGKILL);
    }

    /// Forks a worker for `run`; returns its pid.
    fn fork(&self, location: &str, run: RunSpec) -> Result<u32, RunError> {
        let mut agent = self.agent.lock().expect("agent lock");
        match agent.request(Request::ForkRun { run }, Duration::from_secs(30))? {
            Response::RunForked { pid } => Ok(pid),
            Response::RunRejected { error } => Err(RunError::Rejected {
                location: location.to_owned(),
                message: error.summary(),
            }),
            other => Err(RunError::Rejected {
                location: location.to_owned(),
                message: format!("unexpected answer `{}` to `fork_run`", other.kind()),
            }),
        }
    }

    /// Asks the agent to exit (its forked workers are their own process groups and finish their
    /// runs).
    pub fn shutdown(self) {
        let agent = self.agent.into_inner().expect("agent lock");
        let _ = agent.shutdown(Duration::from_secs(2));
    }
}

pub(crate) use dg_python::process::signal_worker;

#[cfg(test)]
mod tests {
    use std::process::Command;
    use std::time::{Duration, Instant};

    use dg_python::process::{ChildSpec, ManagedChild};

    use super::signal_worker;

    #[test]
    fn a_worker_still_in_its_parents_group_is_signalled_alone() {
        // `sh` stands for the agent (leading its group); its `sleep` for a worker forked a moment
        // ago that has not called `setpgid` yet.
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg("sleep 300 & echo $!; wait");
        let mut agent = ManagedChild::spawn(ChildSpec::new(cmd)).unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let worker: u32 = loop {
            if let Some(line) = agent.captured().stdout.front() {
                break line.trim().parse().unwrap();
            }
            assert!(Instant::now() < deadline, "the worker never started");
            std::thread::sleep(Duration::from_millis(10));
        };
        signal_worker(worker, libc::SIGKILL);
        // The agent's `wait` returns once the worker is gone; the agent itself lives on.
        let deadline = Instant::now() + Duration::from_secs(30);
        while dg_storage::pid_alive(worker) && !is_zombie(worker) {
            assert!(Instant::now() < deadline, "the worker survived");
            std::thread::sleep(Duration::from_millis(10));
        }
        let status = agent.wait_timeout(Duration::from_secs(30)).unwrap();
        assert!(
            status.is_some_and(|s| s.success()),
            "the agent outlived its worker and exited by itself: {status:?}"
        );
    }

    fn is_zombie(pid: u32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s.rsplit_once(") ").is_some_and(|(_, r)| r.starts_with('Z')))
            .unwrap_or(true)
    }
}
