//! Errors of config discovery and validation.
//!
//! Every error that comes from a file carries a [`Location`] (file, line, column) and, where a key is
//! involved, the dotted key as the user wrote it (`tool.dg.project.root_module` in `pyproject.toml`,
//! `project.root_module` in `dg.toml`). Every variant has a hint that says what to do.

use std::fmt;
use std::path::{Path, PathBuf};

use dg_core::Diagnostic;

/// A place in a config file: 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    /// The config file (absolute).
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl Location {
    /// The location of byte `offset` in `source`, the text of `file`.
    pub fn from_offset(file: &Path, source: &str, offset: usize) -> Self {
        let offset = offset.min(source.len());
        let before = &source[..source.floor_char_boundary_compat(offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Self {
            file: file.to_path_buf(),
            line,
            column,
        }
    }

    /// The start of `file`, for problems that concern a whole file.
    pub fn start_of(file: &Path) -> Self {
        Self {
            file: file.to_path_buf(),
            line: 1,
            column: 1,
        }
    }
}

/// `str::floor_char_boundary` is unstable; this is the same thing for our needs.
trait FloorCharBoundary {
    fn floor_char_boundary_compat(&self, index: usize) -> usize;
}

impl FloorCharBoundary for str {
    fn floor_char_boundary_compat(&self, mut index: usize) -> usize {
        while index > 0 && !self.is_char_boundary(index) {
            index -= 1;
        }
        index
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// What a command needs to find around the current directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// A project (standalone or in a workspace).
    Project,
    /// A workspace.
    Workspace,
    /// Either a project or a workspace.
    ProjectOrWorkspace,
}

impl fmt::Display for Needs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Needs::Project => "project",
            Needs::Workspace => "workspace",
            Needs::ProjectOrWorkspace => "project or workspace",
        })
    }
}

/// Everything that can go wrong while finding and reading config files.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A config file exists but cannot be read.
    #[error("Failed to read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file holds bytes that are not UTF-8 (TOML files must be UTF-8); `location` is the first.
    #[error("Invalid UTF-8 at `{location}`: TOML files must be UTF-8 text")]
    NotUtf8 { location: Location },
    /// The file is not valid TOML.
    #[error("Invalid TOML at `{location}`: {message}")]
    InvalidToml { location: Location, message: String },
    /// A key that dg does not know.
    #[error("Unknown key `{key}` at `{location}`")]
    UnknownKey {
        location: Location,
        key: String,
        /// The closest valid key, dotted like `key`.
        suggestion: Option<String>,
        /// Every valid key at that level.
        valid: Vec<String>,
    },
    /// A value of the wrong type.
    #[error("Wrong type for `{key}` at `{location}`: expected {expected}, found {found}")]
    WrongType {
        location: Location,
        key: String,
        /// What the key takes, like `a string` or `an array`.
        expected: String,
        /// What the file has, like ``integer `3` ``.
        found: String,
    },
    /// A required key is absent; `location` is the table that should hold it.
    #[error("Missing required key `{key}` at `{location}`")]
    MissingKey {
        location: Location,
        key: String,
        /// A line the user can add, like `root_module = "my_project"`.
        example: String,
    },
    /// A value of the right type that is not allowed.
    #[error("Invalid value for `{key}` at `{location}`: {message}")]
    InvalidValue {
        location: Location,
        key: String,
        message: String,
        hint: String,
    },
    /// A workspace lists a project folder that does not exist.
    #[error("Project `{path}` listed at `{location}` does not exist")]
    ProjectNotFound {
        location: Location,
        path: String,
        /// The absolute folder that was expected.
        root: PathBuf,
    },
    /// A workspace lists a folder that is not a dg project.
    #[error("Project `{path}` listed at `{location}` is not a dg project: {reason}")]
    NotAProject {
        location: Location,
        path: String,
        reason: String,
    },
    /// A workspace lists the same project twice.
    #[error("Project `{path}` is listed twice, at `{first}` and at `{location}`")]
    DuplicateProject {
        location: Location,
        path: String,
        first: Location,
    },
    /// Two projects of one workspace share a code location name.
    #[error(
        "Projects `{first_path}` and `{second_path}` have the same code location name `{name}`"
    )]
    DuplicateCodeLocationName {
        name: String,
        first_path: String,
        second_path: String,
        /// The file of the second project, where a distinct name can be set.
        second_file: PathBuf,
        /// The dotted key of `code_location_name` in that file.
        key: String,
    },
    /// A command needs a project or workspace and none encloses the current directory.
    #[error("This command must be run inside a Dagster {needs} directory (looked in `{}` and its parents)", start.display())]
    NoContext {
        needs: Needs,
        start: PathBuf,
        /// Folders nearby (parents and immediate children) that would work.
        candidates: Vec<PathBuf>,
    },
}

impl ConfigError {
    /// The location in a config file this error points at, if any.
    pub fn location(&self) -> Option<&Location> {
        match self {
            ConfigError::InvalidToml { location, .. }
            | ConfigError::NotUtf8 { location }
            | ConfigError::UnknownKey { location, .. }
            | ConfigError::WrongType { location, .. }
            | ConfigError::MissingKey { location, .. }
            | ConfigError::InvalidValue { location, .. }
            | ConfigError::ProjectNotFound { location, .. }
            | ConfigError::NotAProject { location, .. }
            | ConfigError::DuplicateProject { location, .. } => Some(location),
            ConfigError::Read { .. }
            | ConfigError::DuplicateCodeLocationName { .. }
            | ConfigError::NoContext { .. } => None,
        }
    }
}

impl Diagnostic for ConfigError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            ConfigError::Read { .. } => "Check that the file exists and is readable.".to_string(),
            ConfigError::NotUtf8 { location } => format!(
                "Save `{}` as UTF-8 (for example with `iconv -f latin1 -t utf-8`), or retype the characters on line {}.",
                location.file.display(),
                location.line
            ),
            ConfigError::InvalidToml { location, .. } => format!(
                "Fix the TOML syntax in `{}` at line {}.",
                location.file.display(),
                location.line
            ),
            ConfigError::UnknownKey {
                suggestion, valid, ..
            } => match suggestion {
                Some(s) => format!("Did you mean `{s}`?"),
                None if valid.is_empty() => "Remove the key.".to_string(),
                None => format!(
                    "Remove the key; valid keys here are {}.",
                    valid
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
            ConfigError::WrongType { key, expected, .. } => {
                format!("Change the value of `{key}` to {expected}.")
            }
            ConfigError::MissingKey { key, example, .. } => {
                format!("Add `{example}` (the key `{key}`).")
            }
            ConfigError::InvalidValue { hint, .. } => hint.clone(),
            ConfigError::ProjectNotFound { root, .. } => format!(
                "Create the project at `{}` (`create-dagster project <path>`), or remove its entry from `[[workspace.projects]]`.",
                root.display()
            ),
            ConfigError::NotAProject { .. } => "Point `path` at a folder whose `pyproject.toml` has `[tool.dg]` with `directory_type = \"project\"` (or whose `dg.toml` has `directory_type = \"project\"`), or remove the entry.".to_string(),
            ConfigError::DuplicateProject { .. } => {
                "Remove one of the two `[[workspace.projects]]` entries.".to_string()
            }
            ConfigError::DuplicateCodeLocationName { second_file, key, .. } => format!(
                "Set a distinct `{key}` in `{}`.",
                second_file.display()
            ),
            ConfigError::NoContext { needs, candidates, .. } => {
                let want = match needs {
                    Needs::Project => "a `pyproject.toml` with `[tool.dg]` and `directory_type = \"project\"`",
                    Needs::Workspace => "a `dg.toml` with `directory_type = \"workspace\"`",
                    Needs::ProjectOrWorkspace => "a `dg.toml` or a `pyproject.toml` with `[tool.dg]` (`directory_type = \"project\"` or `\"workspace\"`)",
                };
                if candidates.is_empty() {
                    format!("Run the command in a folder with {want}, or pass `--target-path`.")
                } else {
                    let list = candidates
                        .iter()
                        .map(|p| format!("`{}`", p.display()))
                        .collect::<Vec<_>>()
                        .join(", ");
                    format!("You may have wanted to run this command in one of: {list} (or pass `--target-path`).")
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_counts_lines_and_characters() {
        let text = "a = 1\nb = \"é\"x\n";
        let at = |offset| {
            let l = Location::from_offset(Path::new("f.toml"), text, offset);
            (l.line, l.column)
        };
        assert_eq!(at(0), (1, 1));
        assert_eq!(at(6), (2, 1));
        // `x` comes after the two-byte `é`: column counts characters, not bytes.
        assert_eq!(at(text.find('x').unwrap()), (2, 8));
        // Inside a multi-byte character and past the end do not panic.
        assert_eq!(at(text.find('é').unwrap() + 1), (2, 6));
        assert_eq!(at(999), (3, 1));
    }
}
