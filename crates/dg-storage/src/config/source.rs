//! Dagster's `StringSource` / `IntSource` values: a literal, or `{env: VAR}` read from the
//! environment when the config is loaded. Errors name the dotted key, the variable and the line.

use std::path::Path;

use serde::Deserialize;

use crate::error::{Result, StorageError};

/// A config value given literally or as `{env: VAR}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum Source<T> {
    /// `{env: VAR}`.
    Env {
        /// The variable to read.
        env: String,
    },
    /// A literal value.
    Value(T),
}

/// What resolving a [`Source`] needs: the file (for errors) and an environment lookup.
pub(crate) struct Resolver<'a> {
    pub path: &'a Path,
    pub text: &'a str,
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

impl Resolver<'_> {
    /// The first line mentioning `needle` (1-based); serde gives no spans for values, so `{env: X}`
    /// is located by its variable name.
    pub fn line_of(&self, needle: &str) -> Option<usize> {
        self.text
            .lines()
            .position(|l| l.contains(needle))
            .map(|i| i + 1)
    }

    pub fn invalid(&self, line: Option<usize>, message: String) -> StorageError {
        StorageError::ConfigInvalid {
            path: self.path.to_path_buf(),
            line,
            message,
        }
    }

    fn env_value(&self, var: &str, key: &str) -> Result<String> {
        (self.env)(var).ok_or_else(|| StorageError::EnvVarMissing {
            path: self.path.to_path_buf(),
            line: self.line_of(var),
            key: key.to_string(),
            var: var.to_string(),
        })
    }

    /// Resolves a string value at dotted `key`.
    pub fn string(&self, source: &Source<String>, key: &str) -> Result<String> {
        match source {
            Source::Value(v) => Ok(v.clone()),
            Source::Env { env } => self.env_value(env, key),
        }
    }

    /// Resolves an integer value at dotted `key`; an environment value must parse as an integer.
    pub fn int(&self, source: &Source<i64>, key: &str) -> Result<i64> {
        match source {
            Source::Value(v) => Ok(*v),
            Source::Env { env } => {
                let raw = self.env_value(env, key)?;
                raw.trim().parse().map_err(|_| {
                    self.invalid(
                        self.line_of(env),
                        format!("`{key}` reads `{env}`, whose value `{raw}` is not an integer"),
                    )
                })
            }
        }
    }
}
