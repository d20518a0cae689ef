//! The shared vocabulary of the dg crates: what every other crate may name without depending on
//! anything but this leaf.
//!
//! * [`Diagnostic`] and the exit codes ([`EXIT_USER_CODE`], [`EXIT_USAGE`]): the shape of every
//!   user-facing error;
//! * [`env`]: every environment variable dg reads or sets, named once;
//! * [`AssetKey`]: the one asset key type, from the selection language down to storage;
//! * [`Timestamp`]: the one point-in-time type, stored and sent as Dagster's float seconds;
//! * [`home`]: where the instance lives (`$DAGSTER_HOME`, else `.dagster/` in the root).
//!
//! It depends on none of our crates, so every crate can use it without an upward arrow.

mod asset_key;
pub mod diagnostic;
pub mod env;
pub mod home;
mod run_target;
mod time;

pub use asset_key::AssetKey;
pub use diagnostic::{Diagnostic, EXIT_USAGE, EXIT_USER_CODE};
pub use run_target::RunTarget;
pub use time::Timestamp;
