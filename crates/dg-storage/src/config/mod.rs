//! The instance config: `dagster.yaml` in the instance home, read with Dagster's keys.
//!
//! Only the storage settings are modelled (`storage: {sqlite | postgres}`, and the legacy
//! `run_storage` / `event_log_storage` / `schedule_storage` class entries). Every other top-level key Dagster accepts is
//! kept as plain JSON in [`InstanceConfig::sections`] for the parts of dg that use it; a key Dagster
//! does not know is an error with file and line, as in Dagster.

mod compute_logs;
mod postgres;
mod raw;
mod source;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use compute_logs::ComputeLogsConfig;
pub use postgres::{PostgresConfig, PostgresUrlError};

use crate::error::{Result, StorageError};
use source::Resolver;

/// File name of the instance config inside the home.
pub const CONFIG_FILE: &str = "dagster.yaml";
/// Where a previous dg (before issue 14) kept its own database, relative to the home. It is never
/// opened or changed again ([`crate::legacy_database`]).
pub const LEGACY_DATABASE: &str = "storage/dg.db";

/// The instance's settings, loaded from `<home>/dagster.yaml` (defaults when the file is absent).
#[derive(Debug, Clone)]
pub struct InstanceConfig {
    /// The instance home folder.
    pub home: PathBuf,
    /// The config file, when it exists.
    pub file: Option<PathBuf>,
    /// Where runs and events are stored.
    pub storage: StorageConfig,
    /// Where captured stdout and stderr are (`compute_logs:`; also kept in `sections`).
    pub compute_logs: ComputeLogsConfig,
    /// Other top-level sections of `dagster.yaml` (`run_monitoring`, `concurrency`, ...), as JSON.
    pub sections: BTreeMap<String, serde_json::Value>,
}

/// Which backend stores the instance, and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageConfig {
    /// An embedded SQLite database under a folder.
    Sqlite(SqliteConfig),
    /// A PostgreSQL database.
    Postgres(PostgresConfig),
}

/// SQLite storage settings: the folders of Dagster's three SQLite storages. With
/// `storage: {sqlite: {base_dir: D}}` (default: the home) they are `D/history`, `D/history/runs`
/// and `D/schedules`; the legacy `run_storage` / `event_log_storage` / `schedule_storage` entries
/// name each folder itself, as Dagster's `SqliteRunStorage` / `SqliteEventLogStorage` /
/// `SqliteScheduleStorage` take them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteConfig {
    /// The folder of run storage's `runs.db`.
    pub runs_dir: PathBuf,
    /// The event log's folder: `index.db` and one `<run_id>.db` shard per run.
    pub event_log_dir: PathBuf,
    /// The folder of `schedules.db`.
    pub schedules_dir: PathBuf,
}

impl SqliteConfig {
    /// The folders Dagster's `SqliteStorage` uses under `base_dir` (`storage.sqlite.base_dir`, or
    /// the instance home).
    pub fn under(base_dir: &Path) -> Self {
        let layout = crate::dagster::schema::SqliteInstance::layout(base_dir);
        Self::from_layout(&layout)
    }

    fn from_layout(layout: &crate::dagster::schema::SqliteInstance) -> Self {
        let parent = |p: &Path| p.parent().map(Path::to_path_buf).unwrap_or_default();
        Self {
            runs_dir: parent(&layout.runs),
            event_log_dir: layout.event_log_dir.clone(),
            schedules_dir: parent(&layout.schedules),
        }
    }

    /// The database files of this config.
    pub fn layout(&self) -> crate::dagster::schema::SqliteInstance {
        crate::dagster::schema::SqliteInstance {
            runs: self.runs_dir.join("runs.db"),
            event_log_dir: self.event_log_dir.clone(),
            schedules: self.schedules_dir.join("schedules.db"),
            created: Vec::new(),
        }
    }
}

impl InstanceConfig {
    /// The default config of an instance at `home`: SQLite under the home, as Dagster's default.
    pub fn default_for(home: &Path) -> Self {
        Self {
            home: home.to_path_buf(),
            file: None,
            storage: StorageConfig::Sqlite(SqliteConfig::under(home)),
            compute_logs: ComputeLogsConfig::default_for(home),
            sections: BTreeMap::new(),
        }
    }

    /// Loads `<home>/dagster.yaml`, reading `{env: VAR}` values from the process environment.
    pub fn load(home: &Path) -> Result<Self> {
        Self::load_with_env(home, &|var| std::env::var(var).ok())
    }

    /// [`InstanceConfig::load`] with an explicit environment lookup.
    pub fn load_with_env(home: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        let path = home.join(CONFIG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::default_for(home))
            }
            Err(source) => return Err(StorageError::ConfigRead { path, source }),
        };
        let resolver = Resolver {
            path: &path,
            text: &text,
            env,
        };
        let mut config = Self::parse(home, &text, &resolver)?;
        config.file = Some(path);
        Ok(config)
    }

    fn parse(home: &Path, text: &str, r: &Resolver<'_>) -> Result<Self> {
        let mut config = Self::default_for(home);
        // An empty file (or one holding only comments) is the default instance.
        if text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        {
            return Ok(config);
        }
        let raw: raw::RawInstance = serde_norway::from_str(text).map_err(|e| {
            let line = e.location().map(|l| l.line());
            let message = e.to_string();
            let message = match message.find(" at line ") {
                Some(i) => message[..i].to_string(),
                None => message,
            };
            r.invalid(line, message)
        })?;
        if let Some(storage) = raw.storage_config(home, r)? {
            config.storage = storage;
        }
        config.compute_logs = ComputeLogsConfig::resolve(raw.compute_logs(), home, r)?;
        config.sections = raw.sections();
        Ok(config)
    }
}

#[cfg(test)]
mod tests;
