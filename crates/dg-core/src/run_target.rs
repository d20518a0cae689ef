//! What a run executes: the one type that resolving a target (`dg-workspace`) produces and that
//! launching a run (`dg-runs`) consumes.

use crate::AssetKey;

/// What a run executes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunTarget {
    /// These assets, through Dagster's implicit asset job (sorted by key when resolved from a
    /// selection).
    Assets(Vec<AssetKey>),
    /// A job by name.
    Job(String),
}
