//! Run lifecycle: launching a run's worker in its code location's environment, ingesting the
//! events it streams into the instance's storage (in order, exactly once), and recording how the
//! run ended: success, failure, a worker that died, or a cancellation.
//!
//! - [`launcher`]: where a run's worker comes from: a freshly started agent that executes the run in
//!   its own process ([`Launcher::Fresh`]), or a warm agent that forks one ([`WarmAgent`]).
//! - [`execute`]: [`execute_run`], the whole life of one run, from `STARTING` to a terminal status.
//! - [`ingest`]: the per-run socket the worker writes to, read and stored in batches.
//! - [`cancel`]: a cancellation signal shared with whoever wants to stop a run (Ctrl-C, the UI).
//! - [`wire`]: the worker's messages.
//! - [`run_config`]: `--config` files and `--config-json`, read as Dagster does.
//! - [`display`]: one line of text per event.

pub mod cancel;
pub mod compute_logs;
pub mod display;
pub mod error;
pub mod execute;
pub mod ingest;
pub mod launcher;
pub mod request;
pub mod run_config;
pub mod wire;

pub use cancel::{cancel_on_signals, CancelToken};
pub use error::RunError;
pub use execute::{execute_run, EventObserver, OutputObserver, RunContext, RunOutcome};
pub use launcher::{start_agent, Launcher, WarmAgent};
pub use request::{RunRequest, RunTarget};
pub use run_config::{load_run_config, RunConfigError};

/// A multi-threaded async runtime for commands that execute runs from synchronous code.
pub fn runtime() -> Result<tokio::runtime::Runtime, RunError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(RunError::Runtime)
}
