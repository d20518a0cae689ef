//! `compute_logs:` of `dagster.yaml`: where Dagster's compute log manager keeps the stdout and
//! stderr it captures while steps run, so that dg reads them back from there.
//!
//! Dagster's form is a configurable class, `{module, class, config}`. Without the key, Dagster uses
//! its `LocalComputeLogManager` with `base_dir` `<home>/storage` (the instance home, whatever
//! `local_artifact_storage` says). dg reads:
//! - `LocalComputeLogManager`: files `<base_dir>/<run_id>/compute_logs/<file_key>.out|.err` and
//!   `.complete` ([`ComputeLogsConfig::Local`]); `base_dir` is a `StringSource` (`{env: VAR}`
//!   works), a relative one is taken from the home as dg does for every path of the file;
//! - `NoOpComputeLogManager`: nothing is captured ([`ComputeLogsConfig::NoOp`]);
//! - any other class (S3, GCS, Azure, custom): accepted, and its output is not shown by dg
//!   ([`ComputeLogsConfig::Other`]).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::source::{Resolver, Source};
use crate::error::Result;

/// Dagster's local compute log manager keeps captured output under this folder of the home.
const DEFAULT_COMPUTE_LOGS_DIR: &str = "storage";

/// Where captured stdout and stderr are, as `compute_logs:` configures Dagster's manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComputeLogsConfig {
    /// Dagster's `LocalComputeLogManager`: files under `base_dir`.
    Local {
        /// Its `base_dir` (absolute).
        base_dir: PathBuf,
    },
    /// Dagster's `NoOpComputeLogManager`: output is not kept.
    NoOp,
    /// Another manager (`module.class`), whose storage dg does not read.
    Other {
        /// `module.class` as written.
        class: String,
    },
}

impl ComputeLogsConfig {
    /// Dagster's default for an instance at `home`: local files under `<home>/storage`.
    pub fn default_for(home: &Path) -> Self {
        Self::Local {
            base_dir: home.join(DEFAULT_COMPUTE_LOGS_DIR),
        }
    }

    /// Why dg shows no captured output for this manager, if it shows none.
    pub fn not_shown(&self) -> Option<String> {
        match self {
            Self::Local { .. } => None,
            Self::NoOp => Some(
                "`compute_logs` is Dagster's `NoOpComputeLogManager`: captured output is not kept"
                    .into(),
            ),
            Self::Other { class } => Some(format!(
                "`compute_logs` is `{class}`, whose captured output is not shown by dg (dg reads \
                 `LocalComputeLogManager` files)"
            )),
        }
    }

    /// Reads `compute_logs:` (`None`: the key is absent) for an instance at `home`.
    pub(crate) fn resolve(
        raw: Option<&serde_norway::Value>,
        home: &Path,
        r: &Resolver<'_>,
    ) -> Result<Self> {
        let Some(raw) = raw.filter(|v| !v.is_null()) else {
            return Ok(Self::default_for(home));
        };
        let line = r.line_of("compute_logs:");
        let class: RawClass = serde_norway::from_value(raw.clone())
            .map_err(|e| r.invalid(line, format!("`compute_logs`: {e}")))?;
        match class.class.as_str() {
            "LocalComputeLogManager" => {
                let config: Option<RawLocal> =
                    serde_norway::from_value(class.config.unwrap_or(serde_norway::Value::Null))
                        .map_err(|e| r.invalid(line, format!("`compute_logs.config`: {e}")))?;
                let Some(base_dir) = config.and_then(|c| c.base_dir) else {
                    return Err(r.invalid(
                        line,
                        "`compute_logs.config.base_dir` is required by `LocalComputeLogManager`"
                            .into(),
                    ));
                };
                let base_dir = r.string(&base_dir, "compute_logs.config.base_dir")?;
                Ok(Self::Local {
                    base_dir: home.join(base_dir),
                })
            }
            "NoOpComputeLogManager" => Ok(Self::NoOp),
            other => Ok(Self::Other {
                class: format!("{}.{other}", class.module),
            }),
        }
    }
}

/// `{module, class, config}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClass {
    module: String,
    class: String,
    config: Option<serde_norway::Value>,
}

/// `LocalComputeLogManager`'s config (`polling_timeout` only matters to Dagster's watcher).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLocal {
    base_dir: Option<Source<String>>,
    #[allow(dead_code)]
    polling_timeout: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::InstanceConfig;

    fn load(yaml: &str, env: &[(&str, &str)]) -> Result<InstanceConfig> {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(home.path().join("dagster.yaml"), yaml).unwrap();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let config = InstanceConfig::load_with_env(home.path(), &|var| {
            env.iter().find(|(k, _)| k == var).map(|(_, v)| v.clone())
        });
        // The paths are checked relative to the home, which goes away with `home`.
        config.map(|mut c| {
            if let ComputeLogsConfig::Local { base_dir } = &c.compute_logs {
                if let Ok(rel) = base_dir.strip_prefix(home.path()) {
                    c.compute_logs = ComputeLogsConfig::Local {
                        base_dir: Path::new("<home>").join(rel),
                    };
                }
            }
            c
        })
    }

    fn local(path: &str) -> ComputeLogsConfig {
        ComputeLogsConfig::Local {
            base_dir: PathBuf::from(path),
        }
    }

    #[test]
    fn the_default_is_local_files_under_the_homes_storage() {
        assert_eq!(load("", &[]).unwrap().compute_logs, local("<home>/storage"));
        // `local_artifact_storage` does not move them (as in Dagster).
        let yaml = "local_artifact_storage:\n  module: dagster._core.storage.root\n  class: LocalArtifactStorage\n  config:\n    base_dir: /elsewhere\n";
        assert_eq!(
            load(yaml, &[]).unwrap().compute_logs,
            local("<home>/storage")
        );
    }

    #[test]
    fn local_base_dirs_literal_from_the_environment_and_relative() {
        let yaml = |base: &str| {
            format!("compute_logs:\n  module: dagster._core.storage.local_compute_log_manager\n  class: LocalComputeLogManager\n  config:\n    base_dir: {base}\n")
        };
        assert_eq!(
            load(&yaml("/var/logs"), &[]).unwrap().compute_logs,
            local("/var/logs")
        );
        assert_eq!(
            load(&yaml("{env: LOGS}"), &[("LOGS", "/from/env")])
                .unwrap()
                .compute_logs,
            local("/from/env")
        );
        assert_eq!(
            load(&yaml("logs"), &[]).unwrap().compute_logs,
            local("<home>/logs")
        );
        let missing = load(&yaml("{env: LOGS}"), &[]).unwrap_err().to_string();
        assert!(missing.contains("LOGS"), "{missing}");
    }

    #[test]
    fn noop_and_other_managers_are_named_not_refused() {
        let noop = "compute_logs:\n  module: dagster._core.storage.noop_compute_log_manager\n  class: NoOpComputeLogManager\n";
        let config = load(noop, &[]).unwrap().compute_logs;
        assert_eq!(config, ComputeLogsConfig::NoOp);
        assert!(config.not_shown().unwrap().contains("NoOp"));
        let s3 = "compute_logs:\n  module: dagster_aws.s3.compute_log_manager\n  class: S3ComputeLogManager\n  config:\n    bucket: b\n";
        let config = load(s3, &[]).unwrap().compute_logs;
        let why = config.not_shown().unwrap();
        assert!(
            why.contains("dagster_aws.s3.compute_log_manager.S3ComputeLogManager")
                && why.contains("not shown by dg"),
            "{why}"
        );
        assert_eq!(local("/x").not_shown(), None);
    }

    #[test]
    fn a_local_manager_needs_its_base_dir_and_a_class_its_keys() {
        let no_base = "compute_logs:\n  module: dagster._core.storage.local_compute_log_manager\n  class: LocalComputeLogManager\n";
        let err = load(no_base, &[]).unwrap_err().to_string();
        assert!(err.contains("base_dir"), "{err}");
        let no_class = "compute_logs:\n  module: m\n";
        let err = load(no_class, &[]).unwrap_err().to_string();
        assert!(err.contains("class"), "{err}");
    }
}
