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

pub mod cancel;
pub mod error;
pub mod execute;
pub mod ingest;
pub mod launcher;
pub mod request;
pub mod wire;

pub use cancel::CancelToken;
pub use error::RunError;
pub use execute::{execute_run, EventObserver, RunContext, RunOutcome};
pub use launcher::{start_agent, Launcher, WarmAgent};
pub use request::{RunRequest, RunTarget};
