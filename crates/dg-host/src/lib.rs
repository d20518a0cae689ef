//! What `dg dev` runs besides HTTP: the host that keeps every code location of a workspace loaded,
//! and the runs it executes. The web layer (`dg-server`) sits on top and only reads and asks.
//!
//! - [`locations`]: code locations (parallel loads, status, warm agents, hot reload via
//!   [`locations::watch`]); its [`Host`] is what the web layer and `dg dev` hold.
//! - [`runs`]: runs started from the API and the UI, executed by `dg-runs`.
//!
//! The daemon (schedules, sensors, automation, backfills) will live here too.

pub mod locations;
pub mod runs;

pub use locations::{Host, HostOptions};
pub use runs::RunManager;
