//! The one workspace model: the asset graph of every loaded code location merged under one rule,
//! the owners of each asset key, and the runs a target (a job or an asset selection) resolves to.
//!
//! `dg launch`, `dg list defs`, `dg check defs`, the `dg dev` host's view of the workspace and
//! `POST /api/runs` all build their graph and plan their runs here, so a key means the same asset
//! everywhere:
//!
//! * a real definition wins over an auto-created stub of the same key (the stub only stands in
//!   for an asset no loaded location defines);
//! * a materializable definition wins over an external spec (`AssetSpec`) of the same key;
//! * a key that several locations define as materializable is ambiguous: the first one (in the
//!   order the locations were given) is shown, and running it needs a location chosen.

mod resolve;
#[cfg(test)]
mod tests;
mod workspace;

pub use dg_core::RunTarget;
pub use resolve::{PlannedRun, ResolveError, Target};
pub use workspace::{asset_node, Workspace, WorkspaceAsset, IMPLICIT_ASSET_JOB};
