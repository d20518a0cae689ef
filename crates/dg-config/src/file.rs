//! One dg config file, fully validated: a project or a workspace, with its `[cli]` table and the
//! warnings it raised. Required keys and allowed values that serde cannot express are checked here.

use std::path::{Path, PathBuf};

use toml::Spanned;

use crate::cli_config::{CliConfig, ConfigWarning, WarningId};
use crate::error::{ConfigError, Location};
use crate::parse::{DirectoryType, FileFormat, FoundFile, Source};
use crate::project::ProjectConfig;
use crate::raw::{RawCli, RawDgFile, RawPyproject, RawUserFile};
use crate::workspace::WorkspaceConfig;

/// A validated dg config file.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    /// The file (absolute).
    pub path: PathBuf,
    /// `dg.toml` or `pyproject.toml`.
    pub format: FileFormat,
    /// What it configures.
    pub kind: ConfigFileKind,
    /// Deprecated keys and similar non-fatal findings.
    pub warnings: Vec<ConfigWarning>,
}

/// What a config file configures.
#[derive(Debug, Clone)]
pub enum ConfigFileKind {
    /// `directory_type = "project"`.
    Project(Box<ProjectConfig>),
    /// `directory_type = "workspace"`.
    Workspace(Box<WorkspaceConfig>),
}

impl ConfigFile {
    /// The directory type of the file.
    pub fn directory_type(&self) -> DirectoryType {
        match self.kind {
            ConfigFileKind::Project(_) => DirectoryType::Project,
            ConfigFileKind::Workspace(_) => DirectoryType::Workspace,
        }
    }
}

/// Reads and validates one `dg.toml` or `pyproject.toml` (`path` should be absolute).
pub fn load_config_file(path: &Path) -> Result<ConfigFile, ConfigError> {
    load_source(&Source::read(path)?)
}

/// Validates a file found by [`crate::locate_in_folder`], from the text read when it was found.
pub fn load_found_file(found: &FoundFile) -> Result<ConfigFile, ConfigError> {
    load_source(&Source::from_found(found))
}

fn load_source(src: &Source) -> Result<ConfigFile, ConfigError> {
    let path = src.path.as_path();
    let (raw, section_start) = match src.format {
        FileFormat::DgToml => (src.deserialize::<RawDgFile>()?, 0),
        FileFormat::Pyproject => {
            let raw: RawPyproject = src.deserialize()?;
            match raw.tool.and_then(|t| t.dg) {
                Some(dg) => {
                    let start = dg.span().start;
                    (dg.into_inner(), start)
                }
                None => {
                    return Err(ConfigError::MissingKey {
                        location: Location::start_of(path),
                        key: "tool.dg".to_string(),
                        example: "[tool.dg]".to_string(),
                    })
                }
            }
        }
    };
    let mut warnings = Vec::new();
    let likely = if raw.workspace.is_some() {
        DirectoryType::Workspace
    } else {
        DirectoryType::Project
    };
    let directory_type = directory_type(src, raw.directory_type.as_ref(), section_start, likely)?;
    let cli = match &raw.cli {
        Some(cli) => cli_from_raw(src, cli)?,
        None => CliConfig::default(),
    };
    let kind = match directory_type {
        DirectoryType::Project => {
            if let Some(ws) = &raw.workspace {
                return Err(misplaced(src, "workspace", ws.span(), directory_type));
            }
            let Some(project) = raw.project else {
                return Err(ConfigError::MissingKey {
                    location: src.at(section_start..section_start),
                    key: src.key("project"),
                    example: format!("[{}]", src.key("project")),
                });
            };
            let mut project = ProjectConfig::from_raw(src, project, cli, &mut warnings)?;
            project.warnings = warnings.clone();
            ConfigFileKind::Project(Box::new(project))
        }
        DirectoryType::Workspace => {
            if let Some(p) = &raw.project {
                return Err(misplaced(src, "project", p.span(), directory_type));
            }
            let ws = WorkspaceConfig::from_raw(src, raw.workspace, cli)?;
            ConfigFileKind::Workspace(Box::new(ws))
        }
    };
    Ok(ConfigFile {
        path: src.path.clone(),
        format: src.format,
        kind,
        warnings,
    })
}

fn directory_type(
    src: &Source,
    value: Option<&Spanned<String>>,
    section_start: usize,
    likely: DirectoryType,
) -> Result<DirectoryType, ConfigError> {
    let Some(value) = value else {
        return Err(ConfigError::MissingKey {
            location: src.at(section_start..section_start),
            key: src.key("directory_type"),
            example: format!("directory_type = \"{}\"", likely.as_str()),
        });
    };
    match value.get_ref().as_str() {
        "project" => Ok(DirectoryType::Project),
        "workspace" => Ok(DirectoryType::Workspace),
        other => Err(ConfigError::InvalidValue {
            location: src.at(value.span()),
            key: src.key("directory_type"),
            message: format!("expected `\"project\"` or `\"workspace\"`, found `\"{other}\"`"),
            hint: "Set `directory_type` to `\"project\"` or `\"workspace\"`.".to_string(),
        }),
    }
}

/// `[workspace]` in a project file or `[project]` in a workspace file.
fn misplaced(
    src: &Source,
    key: &str,
    span: std::ops::Range<usize>,
    directory_type: DirectoryType,
) -> ConfigError {
    let keys = match directory_type {
        DirectoryType::Project => ["directory_type", "project", "cli"],
        DirectoryType::Workspace => ["directory_type", "workspace", "cli"],
    };
    ConfigError::UnknownKey {
        location: src.at(span),
        key: src.key(key),
        suggestion: None,
        valid: keys.iter().map(|k| src.key(k)).collect(),
    }
}

/// Validates a `[cli]` table.
pub(crate) fn cli_from_raw(src: &Source, raw: &RawCli) -> Result<CliConfig, ConfigError> {
    let suppress_warnings = match &raw.suppress_warnings {
        None => None,
        Some(names) => Some(
            names
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    name.get_ref()
                        .parse::<WarningId>()
                        .map_err(|()| ConfigError::InvalidValue {
                            location: src.at(name.span()),
                            key: src.key(&format!("cli.suppress_warnings[{i}]")),
                            message: format!("unknown warning `{}`", name.get_ref()),
                            hint: format!(
                                "Use one of {}.",
                                WarningId::ALL
                                    .iter()
                                    .map(|w| format!("`{w}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    Ok(CliConfig {
        verbose: raw.verbose,
        use_component_modules: raw.use_component_modules.clone(),
        suppress_warnings,
        telemetry_enabled: raw.telemetry.as_ref().and_then(|t| t.enabled),
    })
}

/// Reads the `[cli]` table of the user file at `path` (other tables are ignored).
pub fn load_user_file(path: &Path) -> Result<CliConfig, ConfigError> {
    let src = Source::read(path)?;
    // The user file uses `dg.toml` layout whatever its name.
    let src = Source {
        format: FileFormat::DgToml,
        ..src
    };
    let raw: RawUserFile = src.deserialize()?;
    match &raw.cli {
        Some(cli) => cli_from_raw(&src, cli),
        None => Ok(CliConfig::default()),
    }
}
