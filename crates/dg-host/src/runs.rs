//! Runs started by this host (from the API or the UI), executed by `dg-runs`: a warm location
//! forks a worker from its agent; a location whose code is reloading gets a fresh agent, so the
//! run uses the code on disk. Every stored event wakes the live streams; captured output that
//! storage numbers but does not store as events (Dagster keeps it in compute-log files) is
//! broadcast to them as it comes ([`RunManager::subscribe_output`]).
//!
//! Guarantees: [`RunManager::launch`] returns once the run is stored (its id is known) and never
//! waits for the run itself; at most [`RunManager::max_active_runs`] runs go at once (one more is
//! refused with [`LaunchError::TooManyRuns`]); [`RunManager::shutdown`] cancels every run still
//! going and waits (bounded) until each recorded its final status, so no worker outlives the host.
//!
//! Monitoring ([`RunManager::monitor_orphans`]): runs whose worker is gone are marked failed, those
//! left by an earlier host at once, and later ones (a `dg launch` killed hard, another host that
//! died) by a periodic pass. The periodic pass judges by heartbeats only: a worker of this host
//! that has just exited is not yet recorded as finished, and checking pids would race with it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dg_core::Diagnostic;
use dg_runs::{execute_run, CancelToken, Launcher, RunContext, RunError, RunRequest};
use dg_storage::{EventKind, RunStatus, Storage};
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinSet;

use crate::locations::{Host, HostEvent, LocationStatus};

/// Why a run could not be launched.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// No location has this name.
    #[error("there is no code location `{0}`")]
    UnknownLocation(String),
    /// The location's code does not load.
    #[error("code location `{0}` failed to load; fix its code (see the overview) and try again")]
    LocationFailed(String),
    /// The host is stopping.
    #[error("the server is shutting down")]
    ShuttingDown,
    /// As many runs as allowed are going already.
    #[error("this server already executes {0} runs at once, its limit")]
    TooManyRuns(usize),
    /// dg-runs could not start or record the run.
    #[error(transparent)]
    Run(#[from] RunError),
}

impl Diagnostic for LaunchError {
    fn hint(&self) -> Option<String> {
        match self {
            Self::Run(e) => e.hint(),
            Self::TooManyRuns(_) => {
                Some("Wait for a run to finish (or cancel one) and launch again.".into())
            }
            _ => None,
        }
    }
}

/// Runs one host executes at once by default.
pub const MAX_ACTIVE_RUNS: usize = 32;

/// Seconds without a heartbeat after which monitoring marks a run failed (as `dg launch` does).
pub const HEARTBEAT_TIMEOUT: f64 = 120.0;

/// Where the observer of a new run sends its id (once, from the first stored event).
type IdSender = Arc<Mutex<Option<oneshot::Sender<Result<String, RunError>>>>>;

/// The runs this host executes, and the wake-up signal of run streams.
#[derive(Clone)]
pub struct RunManager {
    storage: Arc<dyn Storage>,
    instance_home: PathBuf,
    active: Arc<Mutex<HashMap<String, CancelToken>>>,
    tasks: Arc<tokio::sync::Mutex<JoinSet<()>>>,
    /// The run id of every event stored by a run of this host.
    stored: broadcast::Sender<String>,
    /// Captured output of runs of this host that storage did not store as events.
    output: broadcast::Sender<Arc<OutputLine>>,
    closed: Arc<std::sync::atomic::AtomicBool>,
    /// Runs launching or going now.
    running: Arc<AtomicUsize>,
    /// Time between `SIGTERM` and `SIGKILL` when a run is canceled.
    pub cancel_grace: Duration,
    /// Most runs going at once ([`MAX_ACTIVE_RUNS`] by default).
    pub max_active_runs: usize,
}

/// Captured output of a run (`STDOUT`/`STDERR`), as it came, for live streams.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OutputLine {
    /// The run.
    pub run_id: String,
    /// The worker's sequence number of the event.
    pub seq: i64,
    /// The `STDOUT` or `STDERR` event.
    pub event: dg_storage::Event,
}

/// One of the [`RunManager::max_active_runs`] places, held from launch until the run has ended.
struct RunSlot(Arc<AtomicUsize>);

impl RunSlot {
    fn take(running: &Arc<AtomicUsize>, limit: usize) -> Option<Self> {
        running
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < limit).then_some(n + 1)
            })
            .ok()
            .map(|_| Self(running.clone()))
    }
}

impl Drop for RunSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl RunManager {
    /// A manager recording into `storage`, with outputs under `instance_home`.
    pub fn new(storage: Arc<dyn Storage>, instance_home: PathBuf) -> Self {
        let (stored, _) = broadcast::channel(4096);
        let (output, _) = broadcast::channel(4096);
        Self {
            storage,
            instance_home,
            active: Arc::default(),
            tasks: Arc::default(),
            stored,
            output,
            closed: Arc::default(),
            running: Arc::default(),
            cancel_grace: Duration::from_secs(5),
            max_active_runs: MAX_ACTIVE_RUNS,
        }
    }

    /// How many runs this host is launching or executing now.
    pub fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }

    /// Marks runs whose worker is gone as failed: at once those an earlier host or command left
    /// (worker process gone, or silent for [`HEARTBEAT_TIMEOUT`]), then every `every` those silent
    /// for that long. Ends when the manager shuts down. Returns the task.
    pub fn monitor_orphans(&self, host: &Host, every: Duration) -> tokio::task::JoinHandle<()> {
        let manager = self.clone();
        let host = host.clone();
        tokio::spawn(async move {
            // No run of this host exists yet: the full check (pids too) cannot race with one.
            let policy = dg_storage::OrphanPolicy::new(HEARTBEAT_TIMEOUT);
            manager.mark_orphans(&host, &policy).await;
            let mut ticks = tokio::time::interval(every);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                if manager.closed.load(Ordering::SeqCst) {
                    return;
                }
                let policy = dg_storage::OrphanPolicy {
                    // A host name no worker has: only heartbeats are judged (see the module).
                    hostname: String::new(),
                    ..dg_storage::OrphanPolicy::new(HEARTBEAT_TIMEOUT)
                };
                manager.mark_orphans(&host, &policy).await;
            }
        })
    }

    async fn mark_orphans(&self, host: &Host, policy: &dg_storage::OrphanPolicy) {
        match self.storage.mark_orphaned_runs_failed(policy).await {
            Ok(marked) => {
                for run_id in marked {
                    tracing::warn!(run_id, "run marked failed: its worker is gone");
                    // Streams of the run end, pages update.
                    let _ = self.stored.send(run_id.clone());
                    host.publish(HostEvent::Run {
                        run_id,
                        status: "FAILURE".into(),
                    });
                }
            }
            Err(e) => tracing::warn!("run monitoring failed: {e}"),
        }
    }

    /// Receives the run id of each event stored by a run of this host (streams use it to wake up
    /// before their next poll).
    pub fn subscribe(&self) -> broadcast::Receiver<String> {
        self.stored.subscribe()
    }

    /// Receives the captured output of runs of this host that storage did not store as events
    /// (none while storage stores output as events: it then reaches streams as stored events).
    pub fn subscribe_output(&self) -> broadcast::Receiver<Arc<OutputLine>> {
        self.output.subscribe()
    }

    /// Whether this host executes `run_id` right now.
    pub fn is_active(&self, run_id: &str) -> bool {
        self.active.lock().expect("runs lock").contains_key(run_id)
    }

    /// Launches `next` in order, each once the run before it succeeded; stops at the first run that
    /// does not succeed (or cannot be launched), as `dg launch` does.
    pub async fn launch_after(
        &self,
        host: &Host,
        mut run_id: String,
        next: Vec<RunRequest>,
        mut events: tokio::sync::broadcast::Receiver<HostEvent>,
    ) {
        use tokio::sync::broadcast::error::RecvError;
        for request in next {
            // The host announces every run that ends; storage says how (also after a lag).
            let status = loop {
                match self.storage.get_run(&run_id).await {
                    Ok(Some(run)) if run.status.is_terminal() => break Some(run.status),
                    Ok(Some(_)) => {}
                    _ => break None,
                }
                loop {
                    match events.recv().await {
                        Ok(HostEvent::Run { run_id: id, .. }) if id == run_id => break,
                        Ok(_) => {}
                        Err(RecvError::Lagged(_)) => break,
                        Err(RecvError::Closed) => return,
                    }
                }
            };
            if status != Some(RunStatus::Success) {
                tracing::warn!(
                    "run `{run_id}` did not succeed; not launching the run in code location `{}`",
                    request.location
                );
                return;
            }
            let location = request.location.clone();
            match self.launch(host, request).await {
                Ok(id) => run_id = id,
                Err(e) => {
                    tracing::warn!("could not launch the run in code location `{location}`: {e}");
                    return;
                }
            }
        }
    }

    /// Starts `request` and returns its run id once the run is stored.
    pub async fn launch(&self, host: &Host, request: RunRequest) -> Result<String, LaunchError> {
        if self.closed.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(LaunchError::ShuttingDown);
        }
        let slot = RunSlot::take(&self.running, self.max_active_runs)
            .ok_or(LaunchError::TooManyRuns(self.max_active_runs))?;
        let info = host
            .location(&request.location)
            .ok_or_else(|| LaunchError::UnknownLocation(request.location.clone()))?;
        let launcher = match (info.status, host.agent(&request.location)) {
            (LocationStatus::Loaded, Some(warm)) => Launcher::Warm(warm),
            (LocationStatus::Failed, _) => {
                return Err(LaunchError::LocationFailed(request.location.clone()))
            }
            // Code changed and is reloading: a fresh agent runs what is on disk now.
            _ => fresh_launcher(host, &request.location).await?,
        };
        let cancel = CancelToken::new();
        let (id_tx, id_rx) = oneshot::channel::<Result<String, RunError>>();
        let id_tx = Arc::new(Mutex::new(Some(id_tx)));
        let ctx = RunContext {
            storage: self.storage.clone(),
            instance_home: self.instance_home.clone(),
            observer: Some(self.observer(host, &request.location, id_tx.clone(), cancel.clone())),
            output: Some(self.output_observer()),
            cancel: cancel.clone(),
            cancel_grace: self.cancel_grace,
        };
        let manager = self.clone();
        let host = host.clone();
        self.tasks.lock().await.spawn(async move {
            let _slot = slot;
            let result = execute_run(&ctx, launcher, &request).await;
            let run_id = result.as_ref().ok().map(|o| o.run_id.clone());
            if let Some(tx) = id_tx.lock().expect("id lock").take() {
                let _ = tx.send(result.map(|o| o.run_id));
            }
            if let Some(run_id) = run_id {
                manager.active.lock().expect("runs lock").remove(&run_id);
                if let Ok(Some(run)) = manager.storage.get_run(&run_id).await {
                    host.publish(HostEvent::Run {
                        run_id,
                        status: run.status.to_string(),
                    });
                }
            }
        });
        match id_rx.await {
            Ok(Ok(run_id)) => Ok(run_id),
            Ok(Err(e)) => Err(e.into()),
            Err(_) => Err(LaunchError::ShuttingDown),
        }
    }

    /// Requests cancellation of a run of this host; false when it is not one (finished, or
    /// launched by another process).
    pub fn cancel(&self, run_id: &str) -> bool {
        match self.active.lock().expect("runs lock").get(run_id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// Refuses new runs, cancels every run still going and waits at most `wait` for them to
    /// record their end.
    pub async fn shutdown(&self, wait: Duration) {
        self.closed.store(true, std::sync::atomic::Ordering::SeqCst);
        for token in self.active.lock().expect("runs lock").values() {
            token.cancel();
        }
        let mut tasks = self.tasks.lock().await;
        let drained =
            tokio::time::timeout(wait, async { while tasks.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tasks.abort_all();
        }
    }

    /// Where a run's unstored captured output goes: to the live streams.
    fn output_observer(&self) -> dg_runs::OutputObserver {
        let output = self.output.clone();
        Arc::new(move |run_id, seq, event| {
            let _ = output.send(Arc::new(OutputLine {
                run_id: run_id.to_owned(),
                seq,
                event: event.clone(),
            }));
        })
    }

    /// The observer of one run: learns its id from the first stored event, registers its cancel
    /// token, wakes the streams and reports status changes.
    fn observer(
        &self,
        host: &Host,
        location: &str,
        id_tx: IdSender,
        cancel: CancelToken,
    ) -> dg_runs::EventObserver {
        let manager = self.clone();
        let host = host.clone();
        let location = location.to_owned();
        Arc::new(move |record| {
            if let Some(tx) = id_tx.lock().expect("id lock").take() {
                manager
                    .active
                    .lock()
                    .expect("runs lock")
                    .insert(record.run_id.clone(), cancel.clone());
                let _ = tx.send(Ok(record.run_id.clone()));
            }
            let _ = manager.stored.send(record.run_id.clone());
            if matches!(record.event.kind, EventKind::RunStart) {
                // The worker runs (forked from the agent, or a fresh agent): now the location's
                // agent can warm up for the runs that follow without delaying this one.
                host.warm_up(&location);
            }
            let status = match &record.event.kind {
                EventKind::RunStarting => Some("STARTING"),
                EventKind::RunStart => Some("STARTED"),
                EventKind::RunCanceling => Some("CANCELING"),
                _ => None,
            };
            if let Some(status) = status {
                host.publish(HostEvent::Run {
                    run_id: record.run_id.clone(),
                    status: status.to_owned(),
                });
            }
        })
    }
}

/// A fresh agent with the location's current code (started on a blocking thread: it imports).
async fn fresh_launcher(host: &Host, location: &str) -> Result<Launcher, LaunchError> {
    let spec = host
        .spec(location)
        .ok_or_else(|| LaunchError::UnknownLocation(location.to_owned()))?;
    let options = host.options().clone();
    let agent = tokio::task::spawn_blocking(move || {
        let env = dg_python::PythonEnvironment::resolve(&spec.name, &spec.root, &options.env)
            .map_err(|e| RunError::Load(e.into()))?;
        dg_runs::start_agent(&spec, &env, None, options.timeout)
            .map(|(agent, _)| agent)
            .map_err(RunError::Load)
    })
    .await
    .map_err(|_| LaunchError::ShuttingDown)??;
    Ok(Launcher::Fresh(Box::new(agent)))
}
