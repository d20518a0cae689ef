//! A project's `.env` file: `KEY=value` lines loaded into every process of the project, as Dagster
//! does. Parsing follows the common dotenv syntax (quotes, `export`, comments) via `dotenvy`;
//! `${VAR}` references are expanded against earlier lines and the host's environment.

use std::path::{Path, PathBuf};

use crate::error::PythonError;

/// The variables of one `.env` file, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DotEnv {
    /// The file they came from (`None` when the project has no `.env`).
    pub path: Option<PathBuf>,
    vars: Vec<(String, String)>,
}

impl DotEnv {
    /// Reads `path`; a missing file is an empty `.env`, a malformed one an error naming the project.
    pub fn load(project: &str, path: &Path) -> Result<Self, PythonError> {
        if !path.is_file() {
            return Ok(Self::default());
        }
        let err = |message: String| PythonError::DotEnv {
            project: project.to_owned(),
            path: path.to_path_buf(),
            message,
        };
        let iter = dotenvy::from_path_iter(path).map_err(|e| err(e.to_string()))?;
        let mut vars = Vec::new();
        for item in iter {
            vars.push(item.map_err(|e| err(e.to_string()))?);
        }
        Ok(Self {
            path: Some(path.to_path_buf()),
            vars,
        })
    }

    /// The value of `key`, if the file sets it to something non-empty (the last line wins).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// Every variable, in file order.
    pub fn vars(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quotes_comments_and_export() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, "# c\nA=1\nexport B='two words'\nA=3\nEMPTY=\n").unwrap();
        let env = DotEnv::load("p", &path).unwrap();
        assert_eq!(env.get("A"), Some("3"));
        assert_eq!(env.get("B"), Some("two words"));
        assert_eq!(env.get("EMPTY"), None);
        assert_eq!(env.vars().count(), 4);
    }

    #[test]
    fn malformed_file_names_project_and_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, "A='unterminated\n").unwrap();
        let err = DotEnv::load("proj", &path).unwrap_err().to_string();
        assert!(err.contains("proj") && err.contains(".env"), "{err}");
    }

    #[test]
    fn missing_file_is_empty() {
        let env = DotEnv::load("p", Path::new("/nonexistent/.env")).unwrap();
        assert_eq!(env, DotEnv::default());
    }
}
