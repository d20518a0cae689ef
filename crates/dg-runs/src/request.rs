//! What to run: a target (assets of one location, or a job), partition, config and tags.

use std::collections::BTreeMap;

/// Name Dagster gives the implicit job that materializes an asset selection.
pub const ASSET_JOB_NAME: &str = "__ASSET_JOB";

pub use dg_core::RunTarget;

/// One run to execute in one code location.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRequest {
    /// The code location's name.
    pub location: String,
    /// What to execute.
    pub target: RunTarget,
    /// The selection text the user gave, stored with the run.
    pub selection: Option<String>,
    /// The partition key.
    pub partition: Option<String>,
    /// A single-run partition range, first and last key.
    pub partition_range: Option<(String, String)>,
    /// Run config, a JSON object (`{}` for none).
    pub run_config: serde_json::Value,
    /// Run tags.
    pub tags: BTreeMap<String, String>,
}

impl RunRequest {
    /// A request for `target` in `location` with no partition, config or tags.
    pub fn new(location: impl Into<String>, target: RunTarget) -> Self {
        Self {
            location: location.into(),
            target,
            selection: None,
            partition: None,
            partition_range: None,
            run_config: serde_json::Value::Object(Default::default()),
            tags: BTreeMap::new(),
        }
    }

    /// The same request with `run_config`.
    pub fn with_config(mut self, run_config: serde_json::Value) -> Self {
        self.run_config = run_config;
        self
    }

    /// The job name stored with the run.
    pub fn job_name(&self) -> &str {
        match &self.target {
            RunTarget::Assets(_) => ASSET_JOB_NAME,
            RunTarget::Job(name) => name,
        }
    }
}
