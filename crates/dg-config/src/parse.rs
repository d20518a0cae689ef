//! Reading one config file: which format it is, whether it is a dg file at all, and turning serde's
//! errors into [`ConfigError`]s with file, line, column and the dotted key.
//!
//! A folder's `dg.toml` wins over its `pyproject.toml`; a `pyproject.toml` without `[tool.dg]` is not
//! a dg file. In `dg.toml` keys are top-level, in `pyproject.toml` they live under `[tool.dg]`, and
//! every key we report carries that prefix.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;

use crate::error::{ConfigError, Location};
use crate::raw::valid_keys;

/// Name of dg's own config file.
pub const DG_TOML: &str = "dg.toml";
/// Name of the Python project file, where dg's config lives under `[tool.dg]`.
pub const PYPROJECT_TOML: &str = "pyproject.toml";

/// The `directory_type` of the environment folder of Dagster's workspace scaffold
/// (`deployments/local`): not a project or a workspace, so discovery looks past it.
const DEPLOYMENT: &str = "deployment";

/// Where the dg keys of a file live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// `dg.toml`: keys at the top level.
    DgToml,
    /// `pyproject.toml`: keys under `[tool.dg]`.
    Pyproject,
}

impl FileFormat {
    /// The format of a file, from its name.
    pub fn of(path: &Path) -> FileFormat {
        match path.file_name().and_then(|n| n.to_str()) {
            Some(DG_TOML) | Some(".dg.toml") => FileFormat::DgToml,
            _ => FileFormat::Pyproject,
        }
    }

    /// The prefix of every dg key in this format (`tool.dg.` or nothing).
    pub fn key_prefix(self) -> &'static str {
        match self {
            FileFormat::DgToml => "",
            FileFormat::Pyproject => "tool.dg.",
        }
    }
}

/// What a folder's dg file says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectoryType {
    /// `directory_type = "project"`.
    Project,
    /// `directory_type = "workspace"`.
    Workspace,
}

impl DirectoryType {
    /// The value as written in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            DirectoryType::Project => "project",
            DirectoryType::Workspace => "workspace",
        }
    }
}

/// A dg file found in a folder, before full validation.
///
/// It keeps the text it was found by, so that validating it ([`crate::load_found_file`]) does not
/// read the file again.
#[derive(Debug, Clone)]
pub struct FoundFile {
    /// The file (absolute).
    pub path: PathBuf,
    /// Its format.
    pub format: FileFormat,
    /// `directory_type` when it is present and valid; `None` otherwise (full parsing reports why).
    pub directory_type: Option<DirectoryType>,
    /// The text of the file as read when it was found.
    pub(crate) text: Arc<str>,
}

/// The dg file of `dir`, if it has one: `dg.toml`, else `pyproject.toml` with `[tool.dg]`.
///
/// Each candidate file is read once. Fails only when the candidate file cannot be read, is not
/// UTF-8 or is not valid TOML.
pub fn locate_in_folder(dir: &Path) -> Result<Option<FoundFile>, ConfigError> {
    let dg_toml = dir.join(DG_TOML);
    if dg_toml.is_file() {
        let text = read(&dg_toml)?;
        let table = parse_table(&dg_toml, &text)?;
        return Ok(Some(FoundFile {
            directory_type: peek_directory_type(&table),
            path: dg_toml,
            format: FileFormat::DgToml,
            text: text.into(),
        }));
    }
    let pyproject = dir.join(PYPROJECT_TOML);
    if pyproject.is_file() {
        let text = read(&pyproject)?;
        let table = parse_table(&pyproject, &text)?;
        // A `tool.dg` that is not a table is still meant for dg: full parsing says what is wrong.
        let Some(dg) = table.get("tool").and_then(|t| t.get("dg")) else {
            return Ok(None);
        };
        // Dagster's `create-dagster workspace` writes `deployments/local/pyproject.toml` with
        // `directory_type = "deployment"`, which its own `dg` then rejects. It configures no
        // project or workspace: look past it, to the workspace around it.
        if dg.get("directory_type").and_then(|t| t.as_str()) == Some(DEPLOYMENT) {
            return Ok(None);
        }
        return Ok(Some(FoundFile {
            directory_type: dg.as_table().and_then(peek_directory_type),
            path: pyproject,
            format: FileFormat::Pyproject,
            text: text.into(),
        }));
    }
    Ok(None)
}

fn peek_directory_type(table: &toml::Table) -> Option<DirectoryType> {
    match table.get("directory_type")?.as_str()? {
        "project" => Some(DirectoryType::Project),
        "workspace" => Some(DirectoryType::Workspace),
        _ => None,
    }
}

/// Reads a file as UTF-8; bytes that are not UTF-8 are reported at their line and column.
pub(crate) fn read(path: &Path) -> Result<String, ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|err| {
        let valid = err.utf8_error().valid_up_to();
        let before = String::from_utf8_lossy(&err.as_bytes()[..valid]);
        ConfigError::NotUtf8 {
            location: Location::from_offset(path, &before, valid),
        }
    })
}

fn parse_table(path: &Path, text: &str) -> Result<toml::Table, ConfigError> {
    text.parse::<toml::Table>()
        .map_err(|err| syntax_error(path, text, &err))
}

/// A TOML syntax error at its place; "duplicate key" also says which key.
fn syntax_error(path: &Path, text: &str, err: &toml::de::Error) -> ConfigError {
    let start = err.span().map_or(0, |s| s.start);
    let mut message = one_line(err.message());
    if message == "duplicate key" {
        let key: String = text
            .get(start..)
            .unwrap_or_default()
            .chars()
            .take_while(|c| !c.is_whitespace() && !matches!(c, '=' | ']' | '.'))
            .collect();
        if !key.is_empty() {
            message = format!("duplicate key `{}`", key.trim_matches(['"', '\'']));
        }
    }
    ConfigError::InvalidToml {
        location: Location::from_offset(path, text, start),
        message,
    }
}

fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The text of one config file and how to point into it.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub path: PathBuf,
    pub text: Arc<str>,
    pub format: FileFormat,
}

impl Source {
    /// Reads `path`; its format comes from its name.
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        Ok(Self {
            text: read(path)?.into(),
            format: FileFormat::of(path),
            path: path.to_path_buf(),
        })
    }

    /// The text a [`FoundFile`] was found by (no second read).
    pub fn from_found(found: &FoundFile) -> Self {
        Self {
            text: Arc::clone(&found.text),
            format: found.format,
            path: found.path.clone(),
        }
    }

    /// The folder that holds the file.
    pub fn dir(&self) -> PathBuf {
        self.path
            .parent()
            .map_or_else(PathBuf::new, Path::to_path_buf)
    }

    /// The location of a span of this file.
    pub fn at(&self, span: Range<usize>) -> Location {
        Location::from_offset(&self.path, &self.text, span.start)
    }

    /// A dg key as the user sees it in this file (`tool.dg.project.root_module`).
    pub fn key(&self, dotted: &str) -> String {
        format!("{}{dotted}", self.format.key_prefix())
    }

    /// Deserializes the file into `T`, mapping every error to a located [`ConfigError`].
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        // Parsing reports syntax errors before any type is checked.
        let de = toml::Deserializer::parse(&self.text)
            .map_err(|err| syntax_error(&self.path, &self.text, &err))?;
        serde_path_to_error::deserialize(de).map_err(|err| self.map_error(&err))
    }

    fn map_error(&self, err: &serde_path_to_error::Error<toml::de::Error>) -> ConfigError {
        let mut segments: Vec<String> = Vec::new();
        for segment in err.path().iter() {
            match segment {
                Segment::Map { key } if key.starts_with("$__") => {}
                Segment::Map { key } => segments.push(key.clone()),
                Segment::Seq { index } => {
                    if let Some(last) = segments.last_mut() {
                        last.push_str(&format!("[{index}]"));
                    }
                }
                Segment::Enum { .. } | Segment::Unknown => {}
            }
        }
        let key = segments.join(".");
        let inner = err.inner();
        let location = self.at(inner.span().unwrap_or(0..0));
        let message = one_line(inner.message());
        if message.starts_with("unknown field") {
            let (parent, _) = key.rsplit_once('.').unwrap_or(("", &key));
            let unknown = segments.last().cloned().unwrap_or_default();
            let stripped = parent
                .strip_prefix(self.format.key_prefix().trim_end_matches('.'))
                .unwrap_or(parent)
                .trim_start_matches('.');
            let lookup = strip_indices(stripped);
            let valid = valid_keys(&lookup);
            let parent_prefix = if parent.is_empty() {
                String::new()
            } else {
                format!("{parent}.")
            };
            return ConfigError::UnknownKey {
                location,
                suggestion: closest(&unknown, valid).map(|s| format!("{parent_prefix}{s}")),
                valid: valid
                    .iter()
                    .map(|k| format!("{parent_prefix}{k}"))
                    .collect(),
                key,
            };
        }
        let (expected, found) = match message.strip_prefix("invalid type: ") {
            Some(rest) => match rest.split_once(", expected ") {
                Some((found, expected)) => (toml_words(expected), toml_found(found)),
                None => (String::new(), rest.to_string()),
            },
            None => (String::new(), message.clone()),
        };
        ConfigError::WrongType {
            location,
            key,
            expected,
            found,
        }
    }
}

/// serde's words for TOML's: a "sequence" is an array, a "map" or "struct" a table.
fn toml_words(expected: &str) -> String {
    expected
        .replace("a sequence", "an array")
        .replace("a map", "a table")
}

/// serde's words for what a file holds (`map`, `sequence`) in TOML's.
fn toml_found(found: &str) -> String {
    match found {
        "map" => "a table".to_string(),
        "sequence" => "an array".to_string(),
        other => other.to_string(),
    }
}

fn strip_indices(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut depth = 0;
    for c in key.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// The valid key closest to `unknown`, if it is close enough to be a likely typo.
pub(crate) fn closest<'a>(unknown: &str, valid: &[&'a str]) -> Option<&'a str> {
    valid
        .iter()
        .map(|k| (strsim::jaro_winkler(unknown, k), *k))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_key_is_a_likely_typo_only() {
        let valid = valid_keys("project");
        assert_eq!(closest("root_modul", valid), Some("root_module"));
        assert_eq!(closest("registry_module", valid), Some("registry_modules"));
        assert_eq!(closest("zzz", valid), None);
    }

    #[test]
    fn duplicate_keys_are_named_and_tables_are_called_tables() {
        let err = |text: &str| {
            let src = Source {
                path: PathBuf::from("dg.toml"),
                text: text.into(),
                format: FileFormat::DgToml,
            };
            match src.deserialize::<crate::raw::RawDgFile>() {
                Err(e) => e.to_string(),
                Ok(_) => panic!("{text:?} is accepted"),
            }
        };
        assert_eq!(
            err("directory_type = \"workspace\"\n'directory_type' = \"project\"\n"),
            "Invalid TOML at `dg.toml:2:1`: duplicate key `directory_type`"
        );
        assert_eq!(
            err("directory_type = \"workspace\"\n[workspace]\n[workspace.projects]\npath = \"a\"\n"),
            "Wrong type for `workspace.projects` at `dg.toml:3:1`: expected an array, found a table"
        );
    }

    #[test]
    fn indices_are_stripped_for_key_lookup() {
        assert_eq!(
            strip_indices("workspace.projects[12]"),
            "workspace.projects"
        );
        assert_eq!(strip_indices("cli"), "cli");
    }

    #[test]
    fn format_follows_the_file_name() {
        assert_eq!(FileFormat::of(Path::new("/x/dg.toml")), FileFormat::DgToml);
        assert_eq!(
            FileFormat::of(Path::new("/x/pyproject.toml")),
            FileFormat::Pyproject
        );
        assert_eq!(FileFormat::Pyproject.key_prefix(), "tool.dg.");
    }
}
