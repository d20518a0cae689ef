//! A dg project: `[project]` with Dagster's defaults applied, and where its modules live on disk.
//!
//! Defaults: `defs_module` is `<root_module>.defs` (or `<root_module>.definitions` when only that
//! exists on disk and `defs_module` is not set), `code_location_target_module` is
//! `<root_module>.definitions`, `code_location_name` is the name of the project folder. Modules are
//! looked up in `src/` when the project has one, else at the project root; `X.py` wins over `X/`.

use std::path::{Path, PathBuf};

use toml::Spanned;

use crate::cli_config::{CliConfig, ConfigWarning, WarningId};
use crate::error::ConfigError;
use crate::parse::Source;
use crate::raw::RawProject;

/// A validated project, defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectConfig {
    /// The project folder (absolute): the folder of `file`.
    pub root: PathBuf,
    /// The `dg.toml` or `pyproject.toml` that configures it.
    pub file: PathBuf,
    /// `project.root_module`: the top-level Python package.
    pub root_module: String,
    /// `project.defs_module`: where definitions are autoloaded from.
    pub defs_module: String,
    /// `project.code_location_target_module`: the module holding the `Definitions`.
    pub code_location_target_module: String,
    /// `project.code_location_name`: the name of the code location.
    pub code_location_name: String,
    /// `project.registry_modules`: module patterns (`*` segments allowed) that hold components.
    pub registry_modules: Vec<String>,
    /// `project.agent_queue` (Dagster+ deployments).
    pub agent_queue: Option<String>,
    /// `project.image` (Dagster+ deployments).
    pub image: Option<String>,
    /// The project file's `[cli]` table. Ignored (with a warning) when the project is in a workspace.
    pub cli: CliConfig,
    /// Non-fatal findings in the project file (deprecated keys, ignored `[cli]`).
    pub warnings: Vec<ConfigWarning>,
}

impl ProjectConfig {
    pub(crate) fn from_raw(
        src: &Source,
        raw: Spanned<RawProject>,
        cli: CliConfig,
        warnings: &mut Vec<ConfigWarning>,
    ) -> Result<Self, ConfigError> {
        let span = raw.span();
        let raw = raw.into_inner();
        let root = src.dir();
        let Some(root_module) = raw.root_module else {
            let example_module = root
                .file_name()
                .map(|n| n.to_string_lossy().replace('-', "_"))
                .unwrap_or_else(|| "my_project".to_string());
            return Err(ConfigError::MissingKey {
                location: src.at(span),
                key: src.key("project.root_module"),
                example: format!("root_module = \"{example_module}\""),
            });
        };
        let root_module = module_name(src, "project.root_module", &root_module)?;
        let defs_module = match &raw.defs_module {
            Some(m) => Some(module_name(src, "project.defs_module", m)?),
            None => None,
        };
        let target = match &raw.code_location_target_module {
            Some(m) => module_name(src, "project.code_location_target_module", m)?,
            None => format!("{root_module}.definitions"),
        };
        let code_location_name = match &raw.code_location_name {
            Some(name) if name.get_ref().trim().is_empty() => {
                return Err(ConfigError::InvalidValue {
                    location: src.at(name.span()),
                    key: src.key("project.code_location_name"),
                    message: "the name is empty".to_string(),
                    hint: "Set a non-empty name, or remove the key to use the folder name."
                        .to_string(),
                })
            }
            Some(name) => name.get_ref().clone(),
            None => root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
        let mut registry_modules = Vec::new();
        for (i, pattern) in raw.registry_modules.iter().flatten().enumerate() {
            if !is_module_pattern(pattern.get_ref()) {
                return Err(ConfigError::InvalidValue {
                    location: src.at(pattern.span()),
                    key: src.key(&format!("project.registry_modules[{i}]")),
                    message: format!("`{}` is not a module pattern", pattern.get_ref()),
                    hint: "Use `.`-separated segments that are Python identifiers or `*`, like `my_project.components.*`.".to_string(),
                });
            }
            registry_modules.push(pattern.get_ref().clone());
        }
        for (key, value) in [
            ("python_environment", &raw.python_environment),
            ("autoload_defs", &raw.autoload_defs),
        ] {
            if let Some(value) = value {
                let full = src.key(&format!("project.{key}"));
                warnings.push(ConfigWarning {
                    id: WarningId::DeprecatedPythonEnvironment,
                    message: format!(
                        "`{full}` in `{}` is deprecated and has no effect; remove it.",
                        src.path.display()
                    ),
                    location: Some(src.at(value.span())),
                });
            }
        }
        let mut project = ProjectConfig {
            file: src.path.clone(),
            root,
            defs_module: String::new(),
            root_module,
            code_location_target_module: target,
            code_location_name,
            registry_modules,
            agent_queue: raw.agent_queue,
            image: raw.image,
            cli,
            warnings: Vec::new(),
        };
        project.defs_module = match defs_module {
            Some(m) => m,
            None => project.default_defs_module(),
        };
        Ok(project)
    }

    /// `<root>.defs`, unless only `<root>.definitions` exists on disk as a package or module.
    fn default_defs_module(&self) -> String {
        let defs = format!("{}.defs", self.root_module);
        let alternative = format!("{}.definitions", self.root_module);
        if self.module_path(&defs).is_none() && self.module_path(&alternative).is_some() {
            alternative
        } else {
            defs
        }
    }

    /// The folder that holds top-level packages: `<root>/src` when it exists, else `<root>`.
    pub fn source_root(&self) -> PathBuf {
        let src = self.root.join("src");
        if src.is_dir() {
            src
        } else {
            self.root.clone()
        }
    }

    /// The file (`a/b.py`) or package folder (`a/b/`) of a dotted module, if it exists.
    /// `X.py` wins over `X/`, like Dagster.
    pub fn module_path(&self, dotted: &str) -> Option<PathBuf> {
        let mut path = self.source_root();
        path.extend(dotted.split('.'));
        let file = path.with_extension("py");
        if file.is_file() {
            Some(file)
        } else if path.is_dir() {
            Some(path)
        } else {
            None
        }
    }

    /// The folder of the root package (`<source_root>/<root_module>`), whether or not it exists yet.
    pub fn package_dir(&self) -> PathBuf {
        let mut path = self.source_root();
        path.extend(self.root_module.split('.'));
        path
    }

    /// Where the defs module lives (a folder, whether or not it exists yet), or its `.py` file.
    pub fn defs_path(&self) -> PathBuf {
        self.module_path(&self.defs_module).unwrap_or_else(|| {
            let mut path = self.source_root();
            path.extend(self.defs_module.split('.'));
            path
        })
    }

    /// The name of the project: its folder name.
    pub fn name(&self) -> String {
        folder_name(&self.root)
    }
}

fn folder_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Checks that a value is a dotted Python module name.
fn module_name(src: &Source, key: &str, value: &Spanned<String>) -> Result<String, ConfigError> {
    let name = value.get_ref();
    if name.split('.').all(is_identifier) {
        Ok(name.clone())
    } else {
        Err(ConfigError::InvalidValue {
            location: src.at(value.span()),
            key: src.key(key),
            message: format!("`{name}` is not a Python module name"),
            hint: "Use `.`-separated Python identifiers, like `my_project.defs` (`-` is not allowed; use `_`).".to_string(),
        })
    }
}

/// Whether `s` is a Python identifier (letters, digits and `_`, not starting with a digit).
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

/// Whether `s` is a registry module pattern: `.`-separated identifiers or `*`.
pub fn is_module_pattern(s: &str) -> bool {
    s.split('.').all(|seg| seg == "*" || is_identifier(seg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_and_patterns() {
        assert!(is_identifier("my_project2"));
        assert!(is_identifier("_x"));
        assert!(!is_identifier("2x"));
        assert!(!is_identifier("my-project"));
        assert!(!is_identifier(""));
        assert!(is_module_pattern("a.components.*"));
        assert!(is_module_pattern("*.b"));
        assert!(!is_module_pattern("a..b"));
        assert!(!is_module_pattern("a.b*"));
    }
}
