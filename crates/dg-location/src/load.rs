//! Loading code locations: one at a time ([`load_location`]) or many in parallel ([`load_all`]),
//! each in its own environment and agent, with a timeout, through the snapshot cache.
//!
//! Isolation: every location loads on its own worker thread in its own process; a location that
//! fails to import, hangs (stopped after the timeout) or crashes yields its error in the stream and
//! never stops the others. A panic on a worker becomes that location's error too.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dg_python::process::{Captured, LineSink, Stream};
use dg_python::{EnvOptions, PythonEnvironment};

use crate::agent::Agent;
use crate::cache::{cache_key, CacheMiss, Lookup, SnapshotCache};
use crate::error::LoadError;
use crate::location::LocationSpec;
use crate::snapshot::DefinitionsSnapshot;

/// Default seconds a location may take to load (Dagster's code server allows 180).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(180);

/// Whether the snapshot cache is read and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CacheMode {
    /// Use a cached snapshot when its key matches; store fresh ones.
    #[default]
    Use,
    /// `--no-cache`: always load, still store the fresh snapshot for later commands.
    Refresh,
    /// Neither read nor write.
    Off,
}

/// A callback receiving each line a location's user code prints while loading.
pub type LocationLogSink = Arc<dyn Fn(&str, Stream, &str) + Send + Sync>;

/// How to load locations; resolved once from flags and environment by the command.
#[derive(Clone)]
pub struct LoadOptions {
    /// Finding and syncing environments (`--use-active-venv`, `--no-sync`).
    pub env: EnvOptions,
    /// How long one location may take (from starting its agent to its snapshot).
    pub timeout: Duration,
    /// At most this many locations load at once.
    pub jobs: usize,
    pub cache_mode: CacheMode,
    /// The cache; `None` disables caching.
    pub cache: Option<SnapshotCache>,
    /// Receives user code's output as it is printed, tagged with the location name.
    pub log_sink: Option<LocationLogSink>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            env: EnvOptions::default(),
            timeout: timeout_from_env(),
            jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
            cache_mode: CacheMode::Use,
            cache: SnapshotCache::default_location(),
            log_sink: None,
        }
    }
}

/// `$DG_LOCATION_LOAD_TIMEOUT` seconds, else [`DEFAULT_TIMEOUT`].
pub fn timeout_from_env() -> Duration {
    std::env::var(dg_core::env::DG_LOCATION_LOAD_TIMEOUT)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|s| *s > 0)
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs)
}

/// A loaded location.
#[derive(Debug, Clone)]
pub struct LoadedLocation {
    pub snapshot: DefinitionsSnapshot,
    /// True when the snapshot came from the cache (no Python process was started).
    pub from_cache: bool,
    /// Why the cache could not be used, when it was consulted and missed.
    pub cache_miss: Option<CacheMiss>,
    /// What user code printed while loading (empty for cached snapshots).
    pub logs: Captured,
    /// The environment the location loads in.
    pub environment: PythonEnvironment,
}

/// Loads one location: resolves its environment (syncing it if needed), then returns the cached
/// snapshot or starts an agent, loads, and shuts it down.
pub fn load_location(spec: &LocationSpec, opts: &LoadOptions) -> Result<LoadedLocation, LoadError> {
    let env = PythonEnvironment::resolve(&spec.name, &spec.root, &opts.env)?;
    let cache = opts
        .cache
        .as_ref()
        .filter(|_| opts.cache_mode != CacheMode::Off);
    // A key we cannot compute (unreadable file) only means no caching for this load.
    let key = cache.and_then(|_| cache_key(spec, &env).ok());
    let mut cache_miss = None;
    if let (Some(cache), Some(key), CacheMode::Use) = (cache, &key, opts.cache_mode) {
        match cache.lookup(spec, key) {
            Lookup::Hit(snapshot) => {
                return Ok(LoadedLocation {
                    snapshot: *snapshot,
                    from_cache: true,
                    cache_miss: None,
                    logs: Captured::default(),
                    environment: env,
                })
            }
            Lookup::Miss(why) => cache_miss = Some(why),
        }
    }
    let sink: Option<LineSink> = opts.log_sink.clone().map(|sink| {
        let name = spec.name.clone();
        Arc::new(move |stream: Stream, line: &str| sink(&name, stream, line)) as LineSink
    });
    let mut agent = Agent::start(&spec.name, &env, sink, opts.timeout)?;
    let snapshot = agent.load(&spec.load_target(), opts.timeout)?;
    let logs = agent.shutdown(Duration::from_secs(2));
    if let (Some(cache), Some(key)) = (cache, &key) {
        // Failing to write the cache costs only speed next time.
        let _ = cache.put(spec, key, &snapshot);
    }
    Ok(LoadedLocation {
        snapshot,
        from_cache: false,
        cache_miss,
        logs,
        environment: env,
    })
}

/// The result of one location in [`load_all`].
pub type LocationResult = (LocationSpec, Result<LoadedLocation, LoadError>);

/// Loads every location in parallel (at most `opts.jobs` at once) and yields each result as soon as
/// it is ready, in completion order. Dropping the iterator stops starting new loads.
pub fn load_all(
    locations: Vec<LocationSpec>,
    opts: LoadOptions,
) -> impl Iterator<Item = LocationResult> {
    let total = locations.len();
    let queue = Arc::new(Mutex::new(VecDeque::from(locations)));
    let (tx, rx) = mpsc::channel::<LocationResult>();
    let workers = opts.jobs.max(1).min(total.max(1));
    let opts = Arc::new(opts);
    for _ in 0..workers {
        let queue = queue.clone();
        let tx = tx.clone();
        let opts = opts.clone();
        std::thread::spawn(move || loop {
            let Some(spec) = queue.lock().expect("queue lock").pop_front() else {
                break;
            };
            let result = std::panic::catch_unwind(AssertUnwindSafe(|| load_location(&spec, &opts)))
                .unwrap_or_else(|panic| {
                    let detail = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                        .unwrap_or_else(|| "panic".into());
                    Err(LoadError::Protocol {
                        location: spec.name.clone(),
                        detail: format!("internal error: {detail}"),
                    })
                });
            if tx.send((spec, result)).is_err() {
                break;
            }
        });
    }
    drop(tx);
    rx.into_iter().take(total)
}
