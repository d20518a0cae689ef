//! The Python agent, the host-agent protocol, the snapshot types and the snapshot cache.
//!
//! - [`snapshot`]: the definitions of a location as plain data (the Rust types are the schema).
//! - [`protocol`]: versioned JSON messages on a private channel; [`agent`] runs the embedded agent.
//! - [`package`]: the agent's Python package, embedded at build time and written to a cache folder
//!   keyed by its content hash.
//! - [`load`]: loading one or many locations, in parallel, each isolated, with a timeout.
//! - [`cache`]: snapshots keyed by a content hash of the project and its environment.
//! - [`traceback`]: user-code errors, rendered with system frames folded.

pub mod agent;
pub mod cache;
pub mod error;
pub mod load;
pub mod location;
pub mod package;
pub mod protocol;
pub mod snapshot;
pub mod traceback;

pub use agent::Agent;
pub use cache::SnapshotCache;
pub use error::LoadError;
pub use load::{load_all, load_location, CacheMode, LoadOptions, LoadedLocation};
pub use location::LocationSpec;
pub use package::agent_version;
pub use snapshot::DefinitionsSnapshot;
