//! The shape of `dagster.yaml` as written (Dagster's instance schema), before `{env: VAR}` values
//! are resolved and paths made absolute.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::postgres::{PostgresConfig, RawPostgres};
use super::source::{Resolver, Source};
use super::{SqliteConfig, StorageConfig};
use crate::error::{Result, StorageError};

type Section = Option<serde_norway::Value>;

/// Every top-level key Dagster's instance schema accepts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawInstance {
    storage: Option<RawStorage>,
    run_storage: Option<RawClass>,
    event_log_storage: Option<RawClass>,
    schedule_storage: Option<RawClass>,
    local_artifact_storage: Section,
    compute_logs: Section,
    run_queue: Section,
    scheduler: Section,
    run_coordinator: Section,
    run_launcher: Section,
    telemetry: Section,
    nux: Section,
    instance_class: Section,
    python_logs: Section,
    run_monitoring: Section,
    run_retries: Section,
    code_servers: Section,
    secrets: Section,
    defs_state_storage: Section,
    retention: Section,
    backfills: Section,
    sensors: Section,
    schedules: Section,
    auto_materialize: Section,
    freshness: Section,
    concurrency: Section,
}

/// `storage:`: exactly one of its keys.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    sqlite: Option<RawSqlite>,
    postgres: Option<RawPostgres>,
    mysql: Section,
    custom: Section,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSqlite {
    base_dir: Option<Source<String>>,
}

/// A legacy `{module, class, config}` entry (`run_storage:`, `event_log_storage:`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClass {
    module: String,
    class: String,
    config: Option<serde_norway::Value>,
}

impl RawInstance {
    /// The storage selected by `storage:` or the legacy keys; `None` for the default.
    pub fn storage_config(&self, home: &Path, r: &Resolver<'_>) -> Result<Option<StorageConfig>> {
        let legacy = self.run_storage.is_some()
            || self.event_log_storage.is_some()
            || self.schedule_storage.is_some();
        if let Some(storage) = &self.storage {
            if legacy {
                return Err(r.invalid(
                    r.line_of("storage:"),
                    "`storage` cannot be combined with `run_storage`, `event_log_storage` or `schedule_storage`".into(),
                ));
            }
            return storage.resolve(home, r).map(Some);
        }
        let run = self
            .run_storage
            .as_ref()
            .map(|c| c.resolve("run_storage", home, r))
            .transpose()?;
        let events = self
            .event_log_storage
            .as_ref()
            .map(|c| c.resolve("event_log_storage", home, r))
            .transpose()?;
        let schedules = self
            .schedule_storage
            .as_ref()
            .map(|c| c.resolve("schedule_storage", home, r))
            .transpose()?;
        combine_legacy(home, run, events, schedules, r)
    }

    /// `compute_logs:` as written, if present.
    pub fn compute_logs(&self) -> Option<&serde_norway::Value> {
        self.compute_logs.as_ref()
    }

    /// The other sections, as JSON, keyed by their top-level name.
    pub fn sections(&self) -> BTreeMap<String, serde_json::Value> {
        let all = [
            ("local_artifact_storage", &self.local_artifact_storage),
            ("compute_logs", &self.compute_logs),
            ("run_queue", &self.run_queue),
            ("scheduler", &self.scheduler),
            ("run_coordinator", &self.run_coordinator),
            ("run_launcher", &self.run_launcher),
            ("telemetry", &self.telemetry),
            ("nux", &self.nux),
            ("instance_class", &self.instance_class),
            ("python_logs", &self.python_logs),
            ("run_monitoring", &self.run_monitoring),
            ("run_retries", &self.run_retries),
            ("code_servers", &self.code_servers),
            ("secrets", &self.secrets),
            ("defs_state_storage", &self.defs_state_storage),
            ("retention", &self.retention),
            ("backfills", &self.backfills),
            ("sensors", &self.sensors),
            ("schedules", &self.schedules),
            ("auto_materialize", &self.auto_materialize),
            ("freshness", &self.freshness),
            ("concurrency", &self.concurrency),
        ];
        all.into_iter()
            .filter_map(|(k, v)| {
                let json = serde_json::to_value(v.as_ref()?).ok()?;
                Some((k.to_string(), json))
            })
            .collect()
    }
}

impl RawStorage {
    fn resolve(&self, home: &Path, r: &Resolver<'_>) -> Result<StorageConfig> {
        let set = [
            self.sqlite.is_some(),
            self.postgres.is_some(),
            self.mysql.is_some(),
            self.custom.is_some(),
        ];
        if set.iter().filter(|s| **s).count() != 1 {
            return Err(r.invalid(
                r.line_of("storage:"),
                "`storage` takes exactly one of `sqlite`, `postgres`, `mysql`, `custom`".into(),
            ));
        }
        if let Some(sqlite) = &self.sqlite {
            return sqlite_config(sqlite.base_dir.as_ref(), "storage.sqlite.base_dir", home, r);
        }
        if let Some(pg) = &self.postgres {
            return PostgresConfig::resolve(pg, "storage.postgres", r).map(StorageConfig::Postgres);
        }
        let kind = if self.mysql.is_some() {
            "mysql"
        } else {
            "custom"
        };
        Err(StorageError::UnsupportedStorage {
            path: r.path.to_path_buf(),
            key: format!("storage.{kind}"),
            kind: kind.into(),
        })
    }
}

/// One legacy entry as resolved: a SQLite folder, or a PostgreSQL database.
enum Legacy {
    Sqlite(std::path::PathBuf),
    Postgres(PostgresConfig, &'static str),
}

/// The storage of the legacy entries: all SQLite (each missing one at Dagster's default folder
/// under the home) or all PostgreSQL on one database.
fn combine_legacy(
    home: &Path,
    run: Option<Legacy>,
    events: Option<Legacy>,
    schedules: Option<Legacy>,
    r: &Resolver<'_>,
) -> Result<Option<StorageConfig>> {
    let given = [&run, &events, &schedules];
    if given.iter().all(|g| g.is_none()) {
        return Ok(None);
    }
    let pgs: Vec<(&PostgresConfig, &str)> = given
        .iter()
        .filter_map(|g| match g {
            Some(Legacy::Postgres(pg, key)) => Some((pg, *key)),
            _ => None,
        })
        .collect();
    if let Some((first, _)) = pgs.first() {
        if pgs.len() != given.iter().filter(|g| g.is_some()).count() {
            return Err(r.invalid(
                r.line_of("event_log_storage:"),
                "`run_storage`, `event_log_storage` and `schedule_storage` mix SQLite and PostgreSQL; dg keeps them in one backend".into(),
            ));
        }
        if let Some((_, key)) = pgs.iter().find(|(pg, _)| pg.url != first.url) {
            return Err(r.invalid(
                r.line_of(&format!("{key}:")),
                "`run_storage`, `event_log_storage` and `schedule_storage` point to different PostgreSQL databases; dg keeps runs and events in one".into(),
            ));
        }
        return Ok(Some(StorageConfig::Postgres((*first).clone())));
    }
    let defaults = SqliteConfig::under(home);
    let dir = |g: Option<Legacy>, default: std::path::PathBuf| match g {
        Some(Legacy::Sqlite(dir)) => dir,
        _ => default,
    };
    Ok(Some(StorageConfig::Sqlite(SqliteConfig {
        runs_dir: dir(run, defaults.runs_dir),
        event_log_dir: dir(events, defaults.event_log_dir),
        schedules_dir: dir(schedules, defaults.schedules_dir),
    })))
}

impl RawClass {
    /// Maps Dagster's storage classes onto our backends by their class name.
    fn resolve(&self, key: &'static str, home: &Path, r: &Resolver<'_>) -> Result<Legacy> {
        let config = self.config.clone().unwrap_or(serde_norway::Value::Null);
        let bad = |e: serde_norway::Error| {
            r.invalid(
                r.line_of(&format!("{key}:")),
                format!("`{key}.config`: {e}"),
            )
        };
        if self.class.starts_with("Sqlite") {
            let sqlite: Option<RawSqlite> = serde_norway::from_value(config).map_err(bad)?;
            let Some(base_dir) = sqlite.and_then(|s| s.base_dir) else {
                return Err(r.invalid(
                    r.line_of(&format!("{key}:")),
                    format!("`{key}.config.base_dir` is required for `{}`", self.class),
                ));
            };
            let dir = r.string(&base_dir, &format!("{key}.config.base_dir"))?;
            return Ok(Legacy::Sqlite(home.join(dir)));
        }
        if self.class.starts_with("Postgres") {
            let pg: RawPostgres = serde_norway::from_value(config).map_err(bad)?;
            return PostgresConfig::resolve(&pg, &format!("{key}.config"), r)
                .map(|pg| Legacy::Postgres(pg, key));
        }
        Err(StorageError::UnsupportedStorage {
            path: r.path.to_path_buf(),
            key: format!("{key}.class"),
            kind: format!("{}.{}", self.module, self.class),
        })
    }
}

fn sqlite_config(
    base_dir: Option<&Source<String>>,
    key: &str,
    home: &Path,
    r: &Resolver<'_>,
) -> Result<StorageConfig> {
    let base_dir = match base_dir {
        Some(source) => home.join(r.string(source, key)?),
        None => home.to_path_buf(),
    };
    Ok(StorageConfig::Sqlite(SqliteConfig::under(&base_dir)))
}
