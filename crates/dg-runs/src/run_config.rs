//! Run config from the command line, as Dagster reads it: `--config-json TEXT`, or one or more
//! `--config FILE` YAML files deep-merged in order (a later file wins where both set a value).

use std::path::{Path, PathBuf};

use dg_core::diagnostic::{Diagnostic, EXIT_USAGE};
use serde_json::{Map, Value};

/// Run config that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RunConfigError {
    /// Both forms were given.
    #[error("`--config` and `--config-json` cannot be used together")]
    Both,
    /// `--config-json` is not valid JSON.
    #[error("`--config-json` is not valid JSON: {0}")]
    Json(serde_json::Error),
    /// A file could not be read.
    #[error("could not read the run config file `{}`", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file is not valid YAML.
    #[error("the run config file `{}` is not valid YAML: {message}", path.display())]
    Yaml {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The config is not a mapping.
    #[error("the run config {what} must be a mapping (such as `ops: ...`), not {found}")]
    NotAMapping {
        /// `--config-json` or the file.
        what: String,
        /// The kind of value found.
        found: &'static str,
    },
}

impl Diagnostic for RunConfigError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            Self::Both => {
                "Pass the config one way: files with `--config`, or JSON with `--config-json`."
                    .into()
            }
            Self::Json(_) => {
                "Quote the JSON for your shell: `--config-json '{\"ops\": {...}}'`.".into()
            }
            Self::Read { .. } => "Check that the file exists and is readable.".into(),
            Self::Yaml { .. } | Self::NotAMapping { .. } => {
                "Run config is a mapping with keys such as `ops`, `resources` and `loggers`.".into()
            }
        })
    }

    fn exit_code(&self) -> u8 {
        EXIT_USAGE
    }
}

/// The run config of `--config FILE...` or `--config-json TEXT` (`{}` with neither).
pub fn load_run_config(files: &[PathBuf], json: Option<&str>) -> Result<Value, RunConfigError> {
    match (files.is_empty(), json) {
        (false, Some(_)) => Err(RunConfigError::Both),
        (true, Some(text)) => {
            let value: Value = serde_json::from_str(text).map_err(RunConfigError::Json)?;
            mapping(value, "given with `--config-json`".into())
        }
        (true, None) => Ok(Value::Object(Map::new())),
        (false, None) => {
            let mut merged = Value::Object(Map::new());
            for path in files {
                let value = read_yaml(path)?;
                let value = mapping(value, format!("file `{}`", path.display()))?;
                deep_merge(&mut merged, value);
            }
            Ok(merged)
        }
    }
}

fn read_yaml(path: &Path) -> Result<Value, RunConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| RunConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    if text.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    serde_norway::from_str(&text).map_err(|e| RunConfigError::Yaml {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

fn mapping(value: Value, what: String) -> Result<Value, RunConfigError> {
    let found = match &value {
        Value::Object(_) => return Ok(value),
        Value::Null => return Ok(Value::Object(Map::new())),
        Value::Array(_) => "a list",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
    };
    Err(RunConfigError::NotAMapping { what, found })
}

/// Merges `from` into `onto`: mappings recursively, anything else replaced.
fn deep_merge(onto: &mut Value, from: Value) {
    match (onto, from) {
        (Value::Object(onto), Value::Object(from)) => {
            for (key, value) in from {
                match onto.get_mut(&key) {
                    Some(existing) if existing.is_object() && value.is_object() => {
                        deep_merge(existing, value)
                    }
                    _ => {
                        onto.insert(key, value);
                    }
                }
            }
        }
        (onto, from) => *onto = from,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn files_merge_deeply_and_later_files_win() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.yaml");
        let b = dir.path().join("b.yaml");
        std::fs::write(
            &a,
            "ops:\n  x:\n    config:\n      n: 1\n      keep: yes_a\n",
        )
        .unwrap();
        std::fs::write(
            &b,
            "ops:\n  x:\n    config:\n      n: 2\n  y: {config: {m: 3}}\n",
        )
        .unwrap();
        let merged = load_run_config(&[a, b], None).unwrap();
        assert_eq!(
            merged,
            json!({"ops": {"x": {"config": {"n": 2, "keep": "yes_a"}}, "y": {"config": {"m": 3}}}})
        );
    }

    #[test]
    fn json_and_errors() {
        assert_eq!(
            load_run_config(&[], Some(r#"{"ops": {}}"#)).unwrap(),
            json!({"ops": {}})
        );
        assert_eq!(load_run_config(&[], None).unwrap(), json!({}));
        assert!(matches!(
            load_run_config(&[], Some("{nope")),
            Err(RunConfigError::Json(_))
        ));
        assert!(matches!(
            load_run_config(&[], Some("[1]")),
            Err(RunConfigError::NotAMapping { .. })
        ));
        assert!(matches!(
            load_run_config(&["x.yaml".into()], Some("{}")),
            Err(RunConfigError::Both)
        ));
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.yaml");
        std::fs::write(&bad, "ops: [unclosed\n").unwrap();
        let err = load_run_config(&[bad], None).unwrap_err();
        assert!(err.to_string().contains("bad.yaml"), "{err}");
    }
}
