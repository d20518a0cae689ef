//! Test support for runs: the fixture project copied to a temporary folder and pointed at the
//! shared environment with real `dagster` (built once by dg-location's test helper, reused here),
//! an instance home with SQLite or PostgreSQL storage, and helpers to launch and inspect runs.

#![allow(dead_code)]

#[path = "../../../dg-location/tests/common/mod.rs"]
pub mod common;
#[path = "../../../dg-storage/tests/conformance/tmpfs.rs"]
pub mod disk;
pub mod pg;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dg_core::env as vars;
use dg_location::LocationSpec;
use dg_python::{EnvOptions, PythonEnvironment};
use dg_runs::{
    execute_run, start_agent, CancelToken, EventObserver, Launcher, OutputObserver, RunContext,
    RunOutcome, RunRequest, RunTarget,
};
use dg_storage::{
    AssetKey, Event, EventKind, EventRecord, InstanceConfig, OpenOptions, PostgresConfig, Storage,
    StorageConfig,
};

/// The admin URL used when `DG_TEST_POSTGRES_URL` is not set.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Which backend the instance uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A copied fixture project with its environment and an instance.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub spec: LocationSpec,
    pub env: PythonEnvironment,
    pub home: PathBuf,
    pub storage: Arc<dyn Storage>,
    /// The PostgreSQL database made for this fixture (dropped with it), if any.
    pub database: Option<pg::FreshDatabase>,
}

impl Fixture {
    pub async fn new(backend: Backend) -> Fixture {
        if backend == Backend::Sqlite {
            return Self::with_storage(None, None, &OpenOptions::default()).await;
        }
        // A database of its own: the shared one may hold anything (another tool's tables).
        let database = pg::FreshDatabase::create(None).await;
        let storage = StorageConfig::Postgres(
            PostgresConfig::from_url(&database.url, vars::DG_TEST_POSTGRES_URL).unwrap(),
        );
        let mut fixture = Self::with_storage(Some(storage), None, &OpenOptions::default()).await;
        // The worker's Dagster reads the instance from `dagster.yaml`, as in a user's home.
        std::fs::create_dir_all(&fixture.home).unwrap();
        std::fs::write(
            fixture.home.join("dagster.yaml"),
            format!(
                "storage:\n  postgres:\n    postgres_url: \"{}\"\n",
                postgres_driver_url(&database.url)
            ),
        )
        .unwrap();
        fixture.database = Some(database);
        fixture
    }

    /// A fixture whose instance uses `storage` (default: SQLite under the home), with its home at
    /// `home` (default: `.dagster` in the test folder), opened with `options`.
    pub async fn with_storage(
        storage: Option<StorageConfig>,
        home: Option<PathBuf>,
        options: &OpenOptions,
    ) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let spec = common::project(dir.path(), "runs_project");
        let env = PythonEnvironment::resolve(&spec.name, &spec.root, &EnvOptions::default())
            .expect("environment");
        let home = home.unwrap_or_else(|| dir.path().join(".dagster"));
        let mut config = InstanceConfig::default_for(&home);
        if let Some(storage) = storage {
            config.storage = storage;
        }
        let storage = dg_storage::open_with(&config, options)
            .await
            .expect("storage opens");
        Fixture {
            dir,
            spec,
            env,
            home,
            storage,
            database: None,
        }
    }

    pub fn context(&self) -> (RunContext, Arc<Mutex<Vec<EventRecord>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let observer: EventObserver = Arc::new(move |r: &EventRecord| {
            sink.lock().unwrap().push(r.clone());
        });
        // Captured output is not stored: it reaches the output observer, recorded here beside the
        // stored events with storage id 0 (no stored event has it).
        let sink = seen.clone();
        let output: OutputObserver = Arc::new(move |run_id: &str, seq: i64, event: &Event| {
            sink.lock().unwrap().push(EventRecord {
                storage_id: 0,
                run_id: run_id.to_string(),
                seq: Some(seq),
                event: event.clone(),
            });
        });
        let mut ctx = RunContext::new(self.storage.clone(), self.home.clone());
        ctx.observer = Some(observer);
        ctx.output = Some(output);
        ctx.cancel_grace = Duration::from_secs(5);
        (ctx, seen)
    }

    /// A fresh agent for this fixture, loaded.
    pub async fn fresh_launcher(&self) -> Launcher {
        let spec = self.spec.clone();
        let env = self.env.clone();
        let (agent, _) = tokio::task::spawn_blocking(move || {
            start_agent(&spec, &env, None, Duration::from_secs(300))
        })
        .await
        .unwrap()
        .expect("agent loads");
        Launcher::Fresh(Box::new(agent))
    }

    /// Launches `request` through a fresh agent and returns its outcome and stored events.
    /// Launches `request` and returns its outcome and the events as the host saw them live
    /// (captured output included, in sequence), after checking that storage holds exactly those
    /// events but the output (Dagster keeps that in compute logs, not as events).
    pub async fn launch(&self, request: RunRequest) -> (RunOutcome, Vec<EventRecord>) {
        let (ctx, seen) = self.context();
        let (outcome, _) = self.launch_with(&ctx, request).await;
        let observed = seen.lock().unwrap().clone();
        (
            outcome.clone(),
            self.check_stored(&outcome.run_id, observed).await,
        )
    }

    /// Checks that the stored events of `run_id` are `observed` without captured output, and
    /// returns `observed`.
    pub async fn check_stored(&self, run_id: &str, observed: Vec<EventRecord>) -> Vec<EventRecord> {
        let stored = self.events(run_id).await;
        let expected: Vec<(Option<i64>, &dg_storage::Event)> = observed
            .iter()
            .filter(|r| {
                !matches!(
                    r.event.kind,
                    dg_storage::EventKind::Stdout { .. } | dg_storage::EventKind::Stderr { .. }
                )
            })
            .map(|r| (r.seq, &r.event))
            .collect();
        let got: Vec<(Option<i64>, &dg_storage::Event)> =
            stored.iter().map(|r| (r.seq, &r.event)).collect();
        assert_eq!(
            got, expected,
            "stored events are the observed ones but the output"
        );
        observed
    }

    pub async fn launch_with(
        &self,
        ctx: &RunContext,
        request: RunRequest,
    ) -> (RunOutcome, Vec<EventRecord>) {
        let launcher = self.fresh_launcher().await;
        let outcome = execute_run(ctx, launcher, &request)
            .await
            .expect("run recorded");
        let events = self.events(&outcome.run_id).await;
        (outcome, events)
    }

    pub async fn events(&self, run_id: &str) -> Vec<EventRecord> {
        self.storage
            .events_after(run_id, None, 1_000_000)
            .await
            .unwrap()
    }

    pub fn pid_file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

pub fn assets(keys: &[&str]) -> RunRequest {
    RunRequest::new(
        "runs_project",
        RunTarget::Assets(keys.iter().map(|k| AssetKey::from_user_string(k)).collect()),
    )
}

pub fn types(events: &[EventRecord]) -> Vec<&'static str> {
    events.iter().map(|e| e.event.kind.event_type()).collect()
}

pub fn logs(events: &[EventRecord]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.event.kind {
            EventKind::Log { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

/// Waits (at most 5 minutes) until `path` holds a pid, and returns it.
pub async fn wait_for_pid(path: &Path) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            if let Ok(pid) = text.trim().parse() {
                return pid;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn slow_request(pid_file: &Path) -> RunRequest {
    let mut request = assets(&["slow"]);
    request.run_config = serde_json::json!({
        "ops": {"slow": {"config": {"pid_file": pid_file.to_str().unwrap()}}}
    });
    request
}

pub fn new_cancel() -> CancelToken {
    CancelToken::new()
}

/// `url` naming psycopg2, the driver of the shared environment (SQLAlchemy would pick psycopg v3
/// for a bare `postgresql://`); dg reads both forms.
pub fn postgres_driver_url(url: &str) -> String {
    let rest = url
        .strip_prefix("postgresql://")
        .or_else(|| url.strip_prefix("postgres://"))
        .unwrap_or(url);
    format!("postgresql+psycopg2://{rest}")
}
