//! Run monitoring: which runs lost their worker. A run in `STARTING`, `STARTED` or `CANCELING` is
//! orphaned when its worker ran on this host and its process is gone, or when nothing (heartbeat,
//! status change) was heard from it for longer than the timeout, wherever it ran. An orphaned run
//! that was being canceled ends `CANCELED` (as Dagster's monitoring ends a run stuck canceling);
//! any other ends `FAILURE`.
//!
//! Storage decides with [`OrphanPolicy::orphan_reason`] on the run as read *under its lock*, so a
//! heartbeat or status change that lands while monitoring looks is never overruled by a stale read.

use rustix::process::{test_kill_process, Pid};

use crate::run::{Run, RunStatus, Timestamp};

/// When to consider a run's worker lost.
#[derive(Debug, Clone, PartialEq)]
pub struct OrphanPolicy {
    /// Seconds without a heartbeat (or, before the first one, since the last status change) after
    /// which a running run is orphaned.
    pub heartbeat_timeout: f64,
    /// The current time.
    pub now: Timestamp,
    /// This host's name ([`this_host`]): workers recorded on it are checked by pid.
    pub hostname: String,
}

impl OrphanPolicy {
    /// A policy for now, on this host.
    pub fn new(heartbeat_timeout: f64) -> Self {
        Self {
            heartbeat_timeout,
            now: crate::run::now(),
            hostname: this_host(),
        }
    }

    /// Why `run` is orphaned, or `None` when it is not.
    pub fn orphan_reason(&self, run: &Run) -> Option<String> {
        if !MONITORED.contains(&run.status) {
            return None;
        }
        if let Some(worker) = &run.worker {
            if worker.hostname == self.hostname && !pid_alive(worker.pid) {
                return Some(format!(
                    "run worker (pid {}) on `{}` is no longer running",
                    worker.pid, worker.hostname
                ));
            }
        }
        let last_heard = run
            .heartbeat_at
            .unwrap_or(run.updated_at)
            .max(run.updated_at);
        let silent = self.now.secs_since(last_heard);
        (silent > self.heartbeat_timeout).then(|| {
            format!(
                "no heartbeat from the run worker for {silent:.0} s (limit {:.0} s)",
                self.heartbeat_timeout
            )
        })
    }
}

/// The statuses of a run that has (or should have) a live worker: the ones monitoring checks.
pub const MONITORED: [RunStatus; 3] = [
    RunStatus::Starting,
    RunStatus::Started,
    RunStatus::Canceling,
];

/// The status an orphaned run in `status` ends with: `CANCELED` when it was being canceled (the
/// user asked for it to stop, and it has), `FAILURE` otherwise.
pub fn orphan_status(status: RunStatus) -> RunStatus {
    if status == RunStatus::Canceling {
        RunStatus::Canceled
    } else {
        RunStatus::Failure
    }
}

/// This host's name, as recorded with workers.
pub fn this_host() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

/// Whether a process with this pid exists on this host (one we may not signal still exists).
pub fn pid_alive(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
        return false;
    };
    match test_kill_process(pid) {
        Ok(()) => true,
        Err(e) => e != rustix::io::Errno::SRCH,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_pid_is_alive_and_a_reaped_child_is_not() {
        assert!(pid_alive(std::process::id()));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(!pid_alive(pid));
    }
}
