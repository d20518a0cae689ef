//! The host's code locations: each one loads in its own agent (all in parallel at start), keeps a
//! status (loading, loaded, failed with its traceback), its load time and versions, and one agent
//! while it is loaded that forks run workers. The agent starts cold and is warmed up after the
//! location's first run ([`Host::warm_up`]): idle locations do not hold Dagster's run machinery.
//!
//! Guarantees: a location that fails, hangs or crashes never affects another; while a location
//! reloads, and after a reload fails, the last good snapshot stays visible (marked as such); a
//! newer reload request cancels the load in flight (its agent is killed), so the latest code wins
//! and a location has at most one agent importing code; a new snapshot is shown as soon as it is
//! loaded, whatever the agent it replaces is still doing (it is retired in the background, and its
//! runs go on); [`Host::shutdown`] ends every agent, loading or loaded. A client may ask for a
//! reload of a location at most once per [`RELOAD_COOLDOWN`] while that load is in flight
//! ([`Host::request_reload`]). Every change is broadcast as a [`HostEvent`] for the live streams.

mod load;
pub mod watch;
mod workspace;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use dg_location::{DefinitionsSnapshot, LocationSpec};
use dg_python::process::Scope;
use dg_python::EnvOptions;
use dg_runs::WarmAgent;
use serde::Serialize;
use tokio::sync::broadcast;

pub use dg_location::LocationSpec as Spec;
pub use workspace::{WorkspaceAsset, WorkspaceView};

/// How soon after a reload request a client may ask for another one of the same location while
/// the first is still loading ([`Host::request_reload`]); file changes are never refused.
pub const RELOAD_COOLDOWN: Duration = Duration::from_secs(1);

/// Why [`Host::request_reload`] started nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReloadRefused {
    /// No location has this name.
    #[error("there is no code location `{0}`")]
    Unknown(String),
    /// The host is stopping.
    #[error("the server is shutting down")]
    ShuttingDown,
    /// A reload of this location was requested a moment ago and is still loading.
    #[error("code location `{name}` is already reloading (requested less than a second ago)")]
    TooSoon {
        name: String,
        /// When asking again may succeed.
        retry_after: Duration,
    },
}

/// Where a location is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationStatus {
    /// Its code is being imported (the previous snapshot, if any, is still shown).
    Loading,
    /// Loaded; a warm agent holds its definitions.
    Loaded,
    /// The last load failed; see its error.
    Failed,
}

/// Why a location failed to load, ready to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocationError {
    /// One line: what went wrong, naming the location and the file.
    pub message: String,
    /// The Python traceback (system frames folded), when user code raised.
    pub traceback: Option<String>,
    /// What to do about it.
    pub hint: Option<String>,
}

/// Everything the UI and API show about one location.
#[derive(Debug, Clone, Serialize)]
pub struct LocationInfo {
    /// The code location's name.
    pub name: String,
    /// The project folder.
    pub root: PathBuf,
    pub status: LocationStatus,
    /// Set when `status` is `failed`.
    pub error: Option<LocationError>,
    /// Seconds the last successful load took (agent start to snapshot).
    pub load_seconds: Option<f64>,
    /// Unix time of the last successful load.
    pub loaded_at: Option<dg_storage::Timestamp>,
    /// `dagster.__version__` of its environment.
    pub dagster_version: Option<String>,
    /// Its Python version.
    pub python_version: Option<String>,
    /// How many times it has been (re)loaded, successfully or not.
    pub generation: u64,
    /// Number of assets the location defines in the snapshot shown (the stubs Dagster creates for
    /// dependencies on other locations' assets are not counted).
    pub asset_count: usize,
    /// True when the snapshot shown is older than the code (loading or failed after a change).
    pub stale_snapshot: bool,
    /// The pid of its warm agent, while there is one.
    pub agent_pid: Option<u32>,
    /// True once its agent has warmed up, after the location's first run (runs launched before
    /// then take longer to start).
    pub warm: bool,
}

/// A change the live streams report.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HostEvent {
    /// A location changed status.
    Location {
        name: String,
        status: LocationStatus,
        generation: u64,
    },
    /// A run was created or changed status.
    Run { run_id: String, status: String },
}

/// How the host loads locations.
#[derive(Clone)]
pub struct HostOptions {
    /// `--use-active-venv` and syncing.
    pub env: EnvOptions,
    /// How long one load may take.
    pub timeout: Duration,
    /// The instance home runs use: each agent makes its run instance for it while warming up.
    pub instance_home: Option<PathBuf>,
}

impl Default for HostOptions {
    fn default() -> Self {
        Self {
            env: EnvOptions::default(),
            timeout: dg_location::load::timeout_from_env(),
            instance_home: None,
        }
    }
}

/// One location's state.
struct Entry {
    spec: LocationSpec,
    status: LocationStatus,
    error: Option<LocationError>,
    snapshot: Option<Arc<DefinitionsSnapshot>>,
    load_seconds: Option<f64>,
    loaded_at: Option<dg_storage::Timestamp>,
    python_version: Option<String>,
    generation: u64,
    /// The newest load request; results of older ones are dropped.
    requested: u64,
    /// The children of the load in flight (cancelled when a newer load is requested) and when it
    /// was requested.
    loading: Option<(Scope, Instant)>,
    agent: Option<Arc<WarmAgent>>,
    agent_pid: Option<u32>,
    warm: bool,
    /// A warm-up of the current agent is in flight.
    warming: bool,
}

impl Entry {
    fn info(&self) -> LocationInfo {
        LocationInfo {
            name: self.spec.name.clone(),
            root: self.spec.root.clone(),
            status: self.status,
            error: self.error.clone(),
            load_seconds: self.load_seconds,
            loaded_at: self.loaded_at,
            dagster_version: self.snapshot.as_ref().map(|s| s.dagster_version.clone()),
            python_version: self
                .python_version
                .clone()
                .or_else(|| self.snapshot.as_ref().map(|s| s.python_version.clone())),
            generation: self.generation,
            asset_count: self.snapshot.as_ref().map_or(0, |s| {
                s.assets.iter().filter(|a| !a.is_auto_created_stub).count()
            }),
            stale_snapshot: self.snapshot.is_some() && self.status != LocationStatus::Loaded,
            agent_pid: self.agent_pid,
            warm: self.warm,
        }
    }
}

pub(crate) struct Inner {
    entries: RwLock<BTreeMap<String, Entry>>,
    /// Location names in the order of the workspace file.
    order: Vec<String>,
    options: HostOptions,
    events: broadcast::Sender<HostEvent>,
    view: RwLock<Arc<WorkspaceView>>,
    closed: std::sync::atomic::AtomicBool,
}

/// The code locations of one `dg dev`; cheap to clone.
#[derive(Clone)]
pub struct Host {
    inner: Arc<Inner>,
}

impl Host {
    /// A host for these locations (nothing is loaded until [`Host::load_all`]).
    pub fn new(specs: Vec<LocationSpec>, options: HostOptions) -> Self {
        let (events, _) = broadcast::channel(1024);
        let order = specs.iter().map(|s| s.name.clone()).collect();
        let entries = specs
            .into_iter()
            .map(|spec| {
                let entry = Entry {
                    spec,
                    status: LocationStatus::Loading,
                    error: None,
                    snapshot: None,
                    load_seconds: None,
                    loaded_at: None,
                    python_version: None,
                    generation: 0,
                    requested: 0,
                    loading: None,
                    agent: None,
                    agent_pid: None,
                    warm: false,
                    warming: false,
                };
                (entry.spec.name.clone(), entry)
            })
            .collect();
        Self {
            inner: Arc::new(Inner {
                entries: RwLock::new(entries),
                order,
                options,
                events,
                view: RwLock::new(Arc::new(WorkspaceView::default())),
                closed: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }

    /// Starts loading every location, all in parallel, each on its own thread.
    pub fn load_all(&self) {
        for name in self.inner.order.clone() {
            self.reload(&name);
        }
    }

    /// Starts (re)loading `name`; false when there is no such location (or the host stopped).
    /// The last good snapshot stays visible until the new one is ready; a load still in flight is
    /// cancelled. For file changes and the first load: never refused.
    pub fn reload(&self, name: &str) -> bool {
        self.start_load(name, None).is_ok()
    }

    /// [`Host::reload`] for a client (the API, the UI): refused while a reload of the same
    /// location requested less than [`RELOAD_COOLDOWN`] ago is still loading, so that a client
    /// repeating the request cannot keep starting agents.
    pub fn request_reload(&self, name: &str) -> Result<(), ReloadRefused> {
        self.start_load(name, Some(RELOAD_COOLDOWN))
    }

    fn start_load(&self, name: &str, cooldown: Option<Duration>) -> Result<(), ReloadRefused> {
        if self.is_closed() {
            return Err(ReloadRefused::ShuttingDown);
        }
        let scope = Scope::new();
        let (spec, request, superseded) = {
            let mut entries = self.inner.entries.write().expect("host lock");
            let Some(entry) = entries.get_mut(name) else {
                return Err(ReloadRefused::Unknown(name.to_owned()));
            };
            if let (Some(cooldown), Some((_, at))) = (cooldown, &entry.loading) {
                let since = at.elapsed();
                if since < cooldown {
                    return Err(ReloadRefused::TooSoon {
                        name: name.to_owned(),
                        retry_after: cooldown - since,
                    });
                }
            }
            entry.requested += 1;
            entry.status = LocationStatus::Loading;
            let superseded = entry.loading.replace((scope.clone(), Instant::now()));
            (entry.spec.clone(), entry.requested, superseded)
        };
        if let Some((previous, _)) = superseded {
            // Its agent is importing code that is no longer the newest: stop it now.
            previous.cancel();
        }
        self.notify_location(name);
        let host = self.clone();
        std::thread::Builder::new()
            .name(format!("load-{name}"))
            .spawn(move || load::run(&host, spec, request, scope))
            .expect("spawn a load thread");
        Ok(())
    }

    /// How locations are loaded.
    pub fn options(&self) -> &HostOptions {
        &self.inner.options
    }

    /// Names of the locations, in workspace order.
    pub fn names(&self) -> &[String] {
        &self.inner.order
    }

    /// Every location, in workspace order.
    pub fn locations(&self) -> Vec<LocationInfo> {
        let entries = self.inner.entries.read().expect("host lock");
        self.inner
            .order
            .iter()
            .filter_map(|n| entries.get(n).map(Entry::info))
            .collect()
    }

    /// One location.
    pub fn location(&self, name: &str) -> Option<LocationInfo> {
        self.inner
            .entries
            .read()
            .expect("host lock")
            .get(name)
            .map(Entry::info)
    }

    /// The snapshot shown for `name` (the last good one).
    pub fn snapshot(&self, name: &str) -> Option<Arc<DefinitionsSnapshot>> {
        let entries = self.inner.entries.read().expect("host lock");
        entries.get(name).and_then(|e| e.snapshot.clone())
    }

    /// The project folder and spec of `name`.
    pub fn spec(&self, name: &str) -> Option<LocationSpec> {
        let entries = self.inner.entries.read().expect("host lock");
        entries.get(name).map(|e| e.spec.clone())
    }

    /// The warm agent of a loaded location (none while loading or after a failure).
    pub fn agent(&self, name: &str) -> Option<Arc<WarmAgent>> {
        let entries = self.inner.entries.read().expect("host lock");
        entries
            .get(name)
            .filter(|e| e.status == LocationStatus::Loaded)
            .and_then(|e| e.agent.clone())
    }

    /// Warms up the agent of `name` in the background: a throwaway run in the agent, and the run
    /// instance of [`HostOptions::instance_home`] made once, so that later forked runs skip
    /// Dagster's lazy imports. Nothing happens when it is warm, warming or not loaded. Agents start
    /// cold (a location nobody runs does not hold Dagster's run machinery); runs call this.
    pub fn warm_up(&self, name: &str) {
        let agent = {
            let mut entries = self.inner.entries.write().expect("host lock");
            let Some(entry) = entries.get_mut(name) else {
                return;
            };
            if entry.warm || entry.warming || entry.status != LocationStatus::Loaded {
                return;
            }
            let Some(agent) = entry.agent.clone() else {
                return;
            };
            entry.warming = true;
            agent
        };
        let host = self.clone();
        let owned = name.to_owned();
        let spawned = std::thread::Builder::new()
            .name(format!("warm-{name}"))
            .spawn(move || {
                let options = &host.inner.options;
                let warmed = agent
                    .warm_up(&owned, options.instance_home.as_deref(), options.timeout)
                    .is_ok();
                let mut entries = host.inner.entries.write().expect("host lock");
                if let Some(entry) = entries.get_mut(&owned) {
                    // A reload may have replaced the agent meanwhile: then this one is retired.
                    if entry.agent.as_ref().is_some_and(|a| Arc::ptr_eq(a, &agent)) {
                        entry.warming = false;
                        entry.warm = warmed;
                    }
                }
            });
        if spawned.is_err() {
            if let Some(entry) = self.inner.entries.write().expect("host lock").get_mut(name) {
                entry.warming = false;
            }
        }
    }

    /// Whether every location has finished its first load (loaded or failed).
    pub fn all_settled(&self) -> bool {
        let entries = self.inner.entries.read().expect("host lock");
        entries
            .values()
            .all(|e| e.status != LocationStatus::Loading && e.generation > 0)
    }

    /// All loaded assets of every location, with the combined asset graph.
    pub fn view(&self) -> Arc<WorkspaceView> {
        self.inner.view.read().expect("view lock").clone()
    }

    /// Live changes.
    pub fn subscribe(&self) -> broadcast::Receiver<HostEvent> {
        self.inner.events.subscribe()
    }

    /// Reports a change to the live streams (used for runs).
    pub fn publish(&self, event: HostEvent) {
        let _ = self.inner.events.send(event);
    }

    /// Stops every agent, loaded or still loading (their process groups are killed), and refuses
    /// new loads. Agents stop in parallel; each gets a short grace to exit by itself.
    pub fn shutdown(&self) {
        self.inner
            .closed
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let (agents, loads): (Vec<_>, Vec<_>) = {
            let mut entries = self.inner.entries.write().expect("host lock");
            entries
                .values_mut()
                .map(|e| {
                    e.agent_pid = None;
                    e.warm = false;
                    e.warming = false;
                    (e.agent.take(), e.loading.take())
                })
                .unzip()
        };
        for (scope, _) in loads.into_iter().flatten() {
            scope.cancel();
        }
        std::thread::scope(|threads| {
            for agent in agents.into_iter().flatten() {
                threads.spawn(move || match Arc::try_unwrap(agent) {
                    Ok(agent) => agent.shutdown(),
                    // Another thread holds it (a warm-up, a run being forked): end it now rather
                    // than when that thread lets go, which may be after this process is gone.
                    Err(agent) => agent.kill(),
                });
            }
        });
    }

    fn is_closed(&self) -> bool {
        self.inner.closed.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn notify_location(&self, name: &str) {
        let event = {
            let entries = self.inner.entries.read().expect("host lock");
            entries.get(name).map(|e| HostEvent::Location {
                name: name.to_owned(),
                status: e.status,
                generation: e.generation,
            })
        };
        if let Some(event) = event {
            self.publish(event);
        }
    }

    fn rebuild_view(&self) {
        let snapshots: Vec<(String, Arc<DefinitionsSnapshot>)> = {
            let entries = self.inner.entries.read().expect("host lock");
            self.inner
                .order
                .iter()
                .filter_map(|n| {
                    let e = entries.get(n)?;
                    Some((n.clone(), e.snapshot.clone()?))
                })
                .collect()
        };
        let view = Arc::new(WorkspaceView::build(&snapshots));
        *self.inner.view.write().expect("view lock") = view;
    }
}
