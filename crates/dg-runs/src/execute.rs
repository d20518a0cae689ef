//! The life of one run: stored as `NOT_STARTED`, then `STARTING` while its worker is launched,
//! `STARTED` once the worker says hello, and finally `SUCCESS`, `FAILURE` or `CANCELED`.
//!
//! Guarantees: every event the worker wrote before it ended (even when killed with `SIGKILL`) is
//! stored, in order, exactly once, before the run's final status; a worker that dies without
//! finishing leaves the run `FAILURE` with an engine event saying so; a cancellation sends the
//! worker's process group `SIGTERM`, then `SIGKILL` after a grace period, and records `CANCELED`.
//!
//! Storage: transient failures (a PostgreSQL connection ended, the server restarting) are retried
//! by the storage itself ([`dg_storage::Retrying`], which [`dg_storage::open`] returns) and the run
//! goes on; retries never store an event twice. A failure that outlasts the retry budget, or one
//! that retrying cannot cure (a full disk), stops the worker, records a `RUN_FAILURE` naming it and
//! the `FAILURE` status where the database still takes them (each bounded in time), and is
//! returned: never a hang or a panic.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use dg_location::protocol::RunSpec;
use dg_storage::{
    new_run_id, now, ErrorInfo, Event, EventKind, EventRecord, NewRun, RunStatus, SequencedEvent,
    Storage, Worker,
};
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant};

use crate::cancel::CancelToken;
use crate::error::RunError;
use crate::ingest::{Acks, Incoming, RunSocket};
use crate::launcher::{signal_worker, Launcher, WorkerExit};
use crate::request::{RunRequest, RunTarget};
use crate::wire::check_version;

/// Receives every stored event of the run, in order, as soon as it is stored.
pub type EventObserver = Arc<dyn Fn(&EventRecord) + Send + Sync>;

/// Receives the run's captured output (`STDOUT`/`STDERR` events) that storage numbered but did not
/// store as events, as it comes: its run id, its sequence number and the event. Dagster keeps
/// captured output in its compute-log files (see [`crate::compute_logs`]), not in the event log.
pub type OutputObserver = Arc<dyn Fn(&str, i64, &Event) + Send + Sync>;

/// Most events stored in one transaction.
const MAX_BATCH: usize = 2000;
/// How often the host records that the worker is alive.
const HEARTBEAT: Duration = Duration::from_secs(5);
/// How long to wait for the worker's end of stream once its process is gone.
const DRAIN_GRACE: Duration = Duration::from_secs(5);
/// How long each write recording a storage failure may take (the storage is failing: it may not).
const FAILURE_RECORD_LIMIT: Duration = Duration::from_secs(5);

/// Where and how runs are recorded.
#[derive(Clone)]
pub struct RunContext {
    /// The instance's storage.
    pub storage: Arc<dyn Storage>,
    /// The instance home (outputs of Dagster's default IO manager go to `<home>/storage`).
    pub instance_home: PathBuf,
    /// Receives each stored event.
    pub observer: Option<EventObserver>,
    /// Receives the captured output storage did not store as events.
    pub output: Option<OutputObserver>,
    /// Cancels the run when triggered.
    pub cancel: CancelToken,
    /// Time between `SIGTERM` and `SIGKILL` when canceling.
    pub cancel_grace: Duration,
}

impl RunContext {
    /// A context with no observer, a fresh cancel token and a 10 s grace period.
    pub fn new(storage: Arc<dyn Storage>, instance_home: PathBuf) -> Self {
        Self {
            storage,
            instance_home,
            observer: None,
            output: None,
            cancel: CancelToken::new(),
            cancel_grace: Duration::from_secs(10),
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    /// The run's id.
    pub run_id: String,
    /// Its code location.
    pub location: String,
    /// Its final status (`SUCCESS`, `FAILURE` or `CANCELED`).
    pub status: RunStatus,
    /// Steps that failed, with their errors.
    pub step_failures: Vec<(String, ErrorInfo)>,
    /// Why the run failed, when it failed outside any step (or its worker was lost).
    pub error: Option<ErrorInfo>,
    /// Events stored.
    pub events: u64,
}

impl RunOutcome {
    /// Whether the run succeeded.
    pub fn success(&self) -> bool {
        self.status == RunStatus::Success
    }
}

/// Executes `request` with `launcher`, recording everything in `ctx.storage`.
pub async fn execute_run(
    ctx: &RunContext,
    launcher: Launcher,
    request: &RunRequest,
) -> Result<RunOutcome, RunError> {
    let run_id = new_run_id();
    ctx.storage
        .create_run(&NewRun {
            run_id: run_id.clone(),
            location: request.location.clone(),
            job_name: request.job_name().to_owned(),
            selection: request.selection.clone(),
            partition: request.partition.clone(),
            config: request.run_config.clone(),
            tags: request.tags.clone(),
            status: RunStatus::NotStarted,
            created_at: now(),
        })
        .await?;
    let mut rec = Recorder {
        ctx,
        outcome: RunOutcome {
            run_id: run_id.clone(),
            location: request.location.clone(),
            status: RunStatus::NotStarted,
            step_failures: Vec::new(),
            error: None,
            events: 0,
        },
        pid: None,
    };
    rec.set_status(RunStatus::Starting).await?;
    rec.host_event(EventKind::RunStarting).await?;
    let mut socket = match RunSocket::bind(&run_id) {
        Ok(socket) => socket,
        Err(e) => return rec.fail_before_start(e).await,
    };
    let rx = socket.start_reader();
    let spec = run_spec(ctx, request, &run_id, socket.path().to_path_buf());
    let location = request.location.clone();
    let launched = tokio::task::spawn_blocking(move || launcher.launch(&location, spec))
        .await
        .unwrap_or_else(|panic| {
            Err(RunError::Rejected {
                location: request.location.clone(),
                message: format!("the launcher panicked: {panic}"),
            })
        });
    let worker = match launched {
        Ok(worker) => worker,
        Err(e) => return rec.fail_before_start(e).await,
    };
    rec.pid = Some(worker.pid);
    let result = rec.supervise(rx, worker.exit).await;
    drop(socket);
    match result {
        Ok(()) => Ok(rec.outcome),
        Err(e) => {
            // Storage failed mid-run in a way retrying did not cure (a full disk, a database away
            // past the retry budget): stop the worker, and record why where the database still
            // takes it.
            signal_worker(worker.pid, libc::SIGKILL);
            rec.record_storage_failure(&e).await;
            Err(e)
        }
    }
}

fn run_spec(ctx: &RunContext, request: &RunRequest, run_id: &str, socket: PathBuf) -> RunSpec {
    let (asset_selection, job_name) = match &request.target {
        RunTarget::Assets(keys) => (Some(keys.iter().map(|k| k.0.clone()).collect()), None),
        RunTarget::Job(name) => (None, Some(name.clone())),
    };
    RunSpec {
        run_id: run_id.to_owned(),
        events_socket: socket,
        instance_home: ctx.instance_home.clone(),
        asset_selection,
        job_name,
        partition: request.partition.clone(),
        partition_range: request.partition_range.clone(),
        run_config: request.run_config.clone(),
        tags: request.tags.clone(),
    }
}

/// Records one run's status and events and tracks its outcome.
struct Recorder<'a> {
    ctx: &'a RunContext,
    outcome: RunOutcome,
    pid: Option<u32>,
}

/// What the supervision loop has learnt so far.
#[derive(Default)]
struct Progress {
    connected: bool,
    eof: bool,
    ended: Option<bool>,
    exit: Option<WorkerExit>,
    cancel_requested: bool,
    kill_at: Option<Instant>,
    drain_deadline: Option<Instant>,
    garbled: Option<String>,
    /// Why the worker was refused (its wire version is not ours); it was killed.
    refused: Option<String>,
    /// Where acknowledgements go, once the worker connected.
    acks: Option<Acks>,
}

impl Recorder<'_> {
    fn run_id(&self) -> &str {
        &self.outcome.run_id
    }

    async fn set_status(&mut self, status: RunStatus) -> Result<(), RunError> {
        self.ctx
            .storage
            .set_run_status(&self.outcome.run_id, status, now())
            .await?;
        self.outcome.status = status;
        Ok(())
    }

    async fn host_event(&mut self, kind: EventKind) -> Result<(), RunError> {
        let event = Event::now(kind);
        let storage_id = self
            .ctx
            .storage
            .append_host_event(&self.outcome.run_id, &event)
            .await?;
        self.observe(EventRecord {
            storage_id,
            run_id: self.outcome.run_id.clone(),
            seq: None,
            event,
        });
        Ok(())
    }

    fn observe(&mut self, record: EventRecord) {
        self.outcome.events += 1;
        match &record.event.kind {
            EventKind::StepFailure { error } => self.outcome.step_failures.push((
                record.event.step_key.clone().unwrap_or_default(),
                error.clone().unwrap_or_else(|| ErrorInfo {
                    message: "the step failed".into(),
                    class_name: None,
                    stack: Vec::new(),
                }),
            )),
            EventKind::RunFailure { error: Some(error) } if self.outcome.error.is_none() => {
                self.outcome.error = Some(error.clone());
            }
            _ => {}
        }
        if let Some(observer) = &self.ctx.observer {
            observer(&record);
        }
    }

    /// Stores `batch` in one transaction and returns the highest sequence number in it (every
    /// lower one is stored too), `None` for an empty batch. Storage numbers captured output without
    /// storing it as an event (no storage id): it goes to the output observer instead.
    async fn store_batch(&mut self, batch: Vec<SequencedEvent>) -> Result<Option<i64>, RunError> {
        let Some(through) = batch.iter().map(|e| e.seq).max() else {
            return Ok(None);
        };
        let ids = self
            .ctx
            .storage
            .append_events(&self.outcome.run_id, &batch)
            .await?;
        // Captured output has no row (Dagster keeps it in compute logs): it goes to the output
        // observer (the `dg launch` terminal, the live stream) instead.
        for (sequenced, storage_id) in batch.into_iter().zip(ids) {
            match storage_id {
                Some(storage_id) => self.observe(EventRecord {
                    storage_id,
                    run_id: self.outcome.run_id.clone(),
                    seq: Some(sequenced.seq),
                    event: sequenced.event,
                }),
                None => {
                    if let Some(output) = &self.ctx.output {
                        output(&self.outcome.run_id, sequenced.seq, &sequenced.event);
                    }
                }
            }
        }
        Ok(Some(through))
    }

    /// Records, as far as the failing storage allows within bounds, that the run was stopped
    /// because `error` kept its events from being stored: a `RUN_FAILURE` naming the error (shown
    /// to the observer too), then the `FAILURE` status, each attempted on its own.
    async fn record_storage_failure(&mut self, error: &RunError) {
        let info = ErrorInfo {
            message: format!("the run was stopped because its events could not be stored: {error}"),
            class_name: None,
            stack: Vec::new(),
        };
        self.outcome.error = Some(info.clone());
        let event = self.host_event(EventKind::RunFailure { error: Some(info) });
        let _ = tokio::time::timeout(FAILURE_RECORD_LIMIT, event).await;
        let status = self.set_status(RunStatus::Failure);
        let _ = tokio::time::timeout(FAILURE_RECORD_LIMIT, status).await;
    }

    /// A run whose worker never started: `FAILURE` with the reason, returned as an outcome when it
    /// is the user's problem and as an error when it is ours.
    async fn fail_before_start(mut self, error: RunError) -> Result<RunOutcome, RunError> {
        let info = ErrorInfo {
            message: error.to_string(),
            class_name: None,
            stack: Vec::new(),
        };
        self.host_event(EventKind::RunFailure {
            error: Some(info.clone()),
        })
        .await?;
        self.set_status(RunStatus::Failure).await?;
        match error {
            RunError::Rejected { .. } | RunError::Load(_) => {
                self.outcome.error = Some(info);
                Ok(self.outcome)
            }
            other => Err(other),
        }
    }

    async fn handle(&mut self, item: Incoming, p: &mut Progress, batch: &mut Vec<SequencedEvent>) {
        match item {
            Incoming::Connected(acks) => {
                p.connected = true;
                p.acks = Some(acks);
            }
            // A refused worker's messages are not read: they are not in our schema.
            _ if p.refused.is_some() => {}
            Incoming::Event(event) => batch.push(event),
            Incoming::Hello { v, pid } => match check_version(v) {
                Ok(()) => self.pid = Some(pid),
                Err(refused) => {
                    signal_worker(pid, libc::SIGKILL);
                    p.refused = Some(refused);
                }
            },
            Incoming::End { success } => p.ended = Some(success),
            Incoming::Garbled(line) => {
                p.garbled.get_or_insert(line);
            }
        }
    }

    async fn supervise(
        &mut self,
        mut rx: mpsc::Receiver<Incoming>,
        exit: tokio::sync::oneshot::Receiver<WorkerExit>,
    ) -> Result<(), RunError> {
        let mut p = Progress::default();
        let mut exit = exit;
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        let mut started = false;
        let far = Instant::now() + Duration::from_secs(60 * 60 * 24 * 365);
        loop {
            if p.exit.is_some() && (p.eof || !p.connected) {
                let deadline = *p
                    .drain_deadline
                    .get_or_insert_with(|| Instant::now() + DRAIN_GRACE);
                if p.eof || Instant::now() >= deadline {
                    break;
                }
            }
            tokio::select! {
                item = rx.recv(), if !p.eof => match item {
                    None => p.eof = true,
                    Some(first) => {
                        let mut batch = Vec::new();
                        self.handle(first, &mut p, &mut batch).await;
                        while batch.len() < MAX_BATCH {
                            match rx.try_recv() {
                                Ok(item) => self.handle(item, &mut p, &mut batch).await,
                                Err(_) => break,
                            }
                        }
                        if !started && self.pid.is_some() && p.connected {
                            started = true;
                            self.set_status(RunStatus::Started).await?;
                            self.heartbeat().await?;
                        }
                        if let Some(through) = self.store_batch(batch).await? {
                            if let Some(acks) = &p.acks {
                                acks.stored(through);
                            }
                        }
                    }
                },
                result = &mut exit, if p.exit.is_none() => {
                    p.exit = Some(result.unwrap_or(WorkerExit::Exited { success: None }));
                }
                _ = self.ctx.cancel.canceled(), if !p.cancel_requested => {
                    p.cancel_requested = true;
                    self.set_status(RunStatus::Canceling).await?;
                    self.host_event(EventKind::RunCanceling).await?;
                    if let Some(pid) = self.pid {
                        signal_worker(pid, libc::SIGTERM);
                    }
                    p.kill_at = Some(Instant::now() + self.ctx.cancel_grace);
                }
                _ = sleep_until(p.kill_at.unwrap_or(far)), if p.kill_at.is_some() => {
                    if let Some(pid) = self.pid {
                        signal_worker(pid, libc::SIGKILL);
                    }
                    p.kill_at = None;
                }
                _ = sleep_until(p.drain_deadline.unwrap_or(far)), if p.drain_deadline.is_some() => {}
                _ = heartbeat.tick() => {
                    if started && p.exit.is_none() {
                        self.heartbeat().await?;
                    }
                }
            }
        }
        self.finish(p).await
    }

    async fn heartbeat(&mut self) -> Result<(), RunError> {
        if let Some(pid) = self.pid {
            let worker = Worker {
                pid,
                hostname: dg_storage::this_host(),
            };
            let run_id = self.run_id().to_owned();
            self.ctx
                .storage
                .record_heartbeat(&run_id, &worker, now())
                .await?;
        }
        Ok(())
    }

    async fn finish(&mut self, p: Progress) -> Result<(), RunError> {
        if let Some(message) = p.refused {
            let error = ErrorInfo {
                message,
                class_name: None,
                stack: Vec::new(),
            };
            self.host_event(EventKind::RunFailure {
                error: Some(error.clone()),
            })
            .await?;
            self.outcome.error = Some(error);
            return self.set_status(RunStatus::Failure).await;
        }
        let ended = p.ended.or(match &p.exit {
            Some(WorkerExit::Exited { success }) => *success,
            _ => None,
        });
        if p.cancel_requested && ended != Some(true) {
            self.host_event(EventKind::RunCanceled).await?;
            return self.set_status(RunStatus::Canceled).await;
        }
        if let Some(success) = ended {
            if let Some(garbled) = p.garbled {
                self.host_event(EventKind::EngineEvent {
                    message: format!("the run worker wrote a line dg could not read: {garbled}"),
                })
                .await?;
            }
            let status = if success {
                RunStatus::Success
            } else {
                RunStatus::Failure
            };
            return self.set_status(status).await;
        }
        let pid = self.pid.map(|p| format!(" (pid {p})")).unwrap_or_default();
        let message = match p.exit {
            Some(WorkerExit::Rejected { message }) => {
                format!("the run worker could not start the run: {message}")
            }
            Some(WorkerExit::Died { status, stderr }) if !stderr.is_empty() => format!(
                "the run worker{pid} exited unexpectedly ({status}) before the run finished; its last output:\n{stderr}"
            ),
            Some(WorkerExit::Died { status, .. }) => format!(
                "the run worker{pid} exited unexpectedly ({status}) before the run finished"
            ),
            _ => format!("the run worker{pid} exited before the run finished"),
        };
        self.host_event(EventKind::EngineEvent {
            message: message.clone(),
        })
        .await?;
        let error = ErrorInfo {
            message,
            class_name: None,
            stack: Vec::new(),
        };
        self.host_event(EventKind::RunFailure {
            error: Some(error.clone()),
        })
        .await?;
        self.outcome.error = Some(error);
        self.set_status(RunStatus::Failure).await
    }
}
