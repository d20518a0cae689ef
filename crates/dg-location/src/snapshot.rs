//! The snapshot of a code location's definitions: plain data the agent sends and the host caches.
//!
//! These Rust types are the source of truth for the agent's output: every struct denies unknown
//! fields, and the agent is tested against them by loading real fixture projects. Bump
//! [`SCHEMA_VERSION`] (here and in `agent/_dg_agent/protocol.py`) on any incompatible change; cached snapshots
//! of another version are ignored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Version of the snapshot format. 2: assets record the jobs, sensors and schedules that target
/// them.
pub const SCHEMA_VERSION: u32 = 2;

/// An asset key: its path components (`["raw", "orders"]` is shown `raw/orders`).
pub use dg_core::AssetKey;

/// Every definition of one code location, with how and where it was loaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefinitionsSnapshot {
    pub schema_version: u32,
    pub assets: Vec<AssetSnapshot>,
    pub asset_checks: Vec<AssetCheckSnapshot>,
    pub jobs: Vec<JobSnapshot>,
    pub schedules: Vec<ScheduleSnapshot>,
    pub sensors: Vec<SensorSnapshot>,
    pub resources: Vec<ResourceSnapshot>,
    /// Which object the definitions came from.
    pub loaded_from: LoadedFrom,
    /// `dagster.__version__` in the location's environment.
    pub dagster_version: String,
    /// The interpreter's version (`3.11.7`).
    pub python_version: String,
    /// Seconds spent importing `dagster` itself.
    pub import_dagster_seconds: f64,
    /// Seconds from the load request to the finished snapshot (includes importing `dagster`).
    pub load_seconds: f64,
}

/// The object the definitions were loaded from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadedFrom {
    /// `definitions_function` (`@definitions`), `definitions_object`, `repository`, `job`, `graph`,
    /// `assets` (assets found in the module) or `defs_folder` (autoloaded: no target module).
    pub kind: String,
    /// The module that was imported.
    pub module: String,
    /// The attribute holding the definitions, when there is one.
    pub attribute: Option<String>,
}

/// One asset (including external assets and stubs created for dependencies on other locations).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetSnapshot {
    pub key: AssetKey,
    pub group_name: String,
    /// Upstream assets, sorted by their `/`-joined key.
    pub deps: Vec<AssetKey>,
    /// Sorted kinds (`python`, `duckdb`).
    pub kinds: Vec<String>,
    pub description: Option<String>,
    /// All tags as Dagster stores them (kinds also appear as `dagster/kind/<kind>` tags).
    pub tags: BTreeMap<String, String>,
    /// Owners as written (`team:data`, `someone@example.com`).
    pub owners: Vec<String>,
    pub metadata: BTreeMap<String, MetadataEntry>,
    pub partitions: Option<PartitionsSnapshot>,
    pub automation_condition: Option<AutomationConditionSnapshot>,
    pub code_version: Option<String>,
    /// Materializable or observable by this location.
    pub is_executable: bool,
    pub is_materializable: bool,
    pub is_observable: bool,
    /// A placeholder Dagster created for a dependency defined elsewhere (another location, by key).
    pub is_auto_created_stub: bool,
    /// `path:line` relative to the project root, from the `dagster/code_references` metadata.
    pub source: Option<String>,
    /// Sorted names of the jobs that execute the asset, Dagster's implicit `__ASSET_JOB` and
    /// anonymous jobs of schedules and sensors included (what `job:` selects on).
    #[serde(default)]
    pub job_names: Vec<String>,
    /// Sorted names of the sensors that target the asset, by Dagster's rules: through the
    /// sensor's asset selection, or a job (not the implicit one) that executes the asset; an
    /// automation sensor only for assets with an automation condition (what `sensor:` selects on).
    #[serde(default)]
    pub targeting_sensor_names: Vec<String>,
    /// Sorted names of the schedules that target the asset through a job (not the implicit one)
    /// that executes it (what `schedule:` selects on).
    #[serde(default)]
    pub targeting_schedule_names: Vec<String>,
}

impl AssetSnapshot {
    /// The key as Dagster shows it: components joined by `/`.
    pub fn key_string(&self) -> String {
        self.key.to_user_string()
    }
}

/// One metadata value: the Python type name of the stored value and its JSON form (values that
/// have no JSON form are their `str()`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetadataEntry {
    #[serde(rename = "type")]
    pub type_name: String,
    pub value: serde_json::Value,
}

/// How an asset is partitioned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionsSnapshot {
    /// `time_window`, `static`, `dynamic`, `multi` or `other`.
    pub kind: String,
    /// Dagster's own description (`Daily, starting 2024-01-01 UTC.`).
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron_schedule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fmt: Option<String>,
    /// Static partitions: every key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<Vec<String>>,
    /// Dynamic partitions: the name of the set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Multi-partitions: each dimension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<Vec<PartitionDimension>>,
}

/// One dimension of a multi-partitioned asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionDimension {
    pub name: String,
    pub partitions: PartitionsSnapshot,
}

/// An asset's automation condition, as `dg list defs` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutomationConditionSnapshot {
    pub label: Option<String>,
    pub expanded_label: Vec<String>,
}

/// One asset check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetCheckSnapshot {
    pub asset_key: AssetKey,
    pub name: String,
    pub additional_deps: Vec<AssetKey>,
    pub description: Option<String>,
    pub blocking: bool,
    pub source: Option<String>,
}

impl AssetCheckSnapshot {
    /// The check key as Dagster shows it: `asset/key:check_name`.
    pub fn key_string(&self) -> String {
        format!("{}:{}", self.asset_key, self.name)
    }
}

/// One job (Dagster's implicit asset jobs are left out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSnapshot {
    pub name: String,
    pub description: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub source: Option<String>,
}

/// One schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSnapshot {
    pub name: String,
    /// One or more cron expressions (Dagster accepts a list).
    pub cron_schedule: Vec<String>,
    pub execution_timezone: Option<String>,
    pub job_name: Option<String>,
    /// `RUNNING` or `STOPPED`.
    pub default_status: String,
    pub description: Option<String>,
    pub source: Option<String>,
}

/// One sensor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensorSnapshot {
    pub name: String,
    /// Dagster's sensor type, lower case (`standard`, `asset`, `multi_asset`, `run_status`,
    /// `auto_materialize`, ...).
    pub sensor_type: String,
    pub job_names: Vec<String>,
    pub minimum_interval_seconds: Option<u64>,
    /// `RUNNING` or `STOPPED`.
    pub default_status: String,
    pub description: Option<String>,
    pub source: Option<String>,
}

/// One top-level resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceSnapshot {
    pub name: String,
    /// The resource's type as `dg list defs` shows it (`my_project.resources.MyResource`).
    #[serde(rename = "type")]
    pub type_name: String,
}
