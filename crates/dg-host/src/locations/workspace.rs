//! The assets of every loaded location as one workspace: the combined asset graph that selections
//! are evaluated on and that the lineage page draws, rebuilt whenever a location's snapshot changes.
//!
//! The model and its rule for a key several locations mention (a real definition wins over a stub,
//! a materializable one over a spec) are `dg_workspace::Workspace`'s; this is the UI's view of
//! it, where every materializable asset is also in the implicit asset job.

use std::sync::Arc;

use dg_location::DefinitionsSnapshot;
use dg_workspace::Workspace;

pub use dg_workspace::WorkspaceAsset;

/// All assets of the loaded snapshots, indexed by key, their selection graph and owners
/// (everything of [`Workspace`], through `Deref`).
#[derive(Debug, Default)]
pub struct WorkspaceView(Workspace);

impl WorkspaceView {
    /// Combines the snapshots (location name, snapshot) in workspace order.
    pub fn build(snapshots: &[(String, Arc<DefinitionsSnapshot>)]) -> Self {
        Self(Workspace::with_asset_job(
            snapshots.iter().map(|(name, s)| (name.as_str(), &**s)),
        ))
    }
}

impl std::ops::Deref for WorkspaceView {
    type Target = Workspace;

    fn deref(&self) -> &Workspace {
        &self.0
    }
}
