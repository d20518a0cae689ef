//! `dg check toml`: validates the nearest dg file and the enclosing workspace file, each on its own
//! so that every broken file is reported, and prints what it found the way Dagster does. At a
//! workspace root it also checks every listed project (the path exists, is a project, its file is
//! valid, code location names are unique).

use std::path::{Path, PathBuf};

use dg_config::{
    ConfigError, ConfigFileKind, ConfigWarning, Diagnostic, DirectoryType, FoundFile,
    WorkspaceConfig,
};

use crate::args::CheckTomlArgs;
use crate::error::{CliError, CliResult};
use crate::printer::Printer;
use crate::settings::Session;

/// Runs `dg check toml`.
///
/// Its settings come from the user file alone ([`crate::settings::Sources::UserOnly`]): the files
/// it checks may be broken.
pub fn run(session: Session, _args: &CheckTomlArgs) -> CliResult {
    let settings = session.settings;
    let mut check = Check {
        printer: session.printer,
        has_errors: false,
    };
    check.printer.out("Checking TOML configuration files...");

    match dg_config::find_config_files(&settings.target_path) {
        Ok(files) => {
            if let Some(nearest) = &files.nearest {
                check.root_file(nearest);
            }
            if let Some(ws) = files
                .workspace
                .as_ref()
                .filter(|ws| files.nearest.as_ref().map(|n| &n.path) != Some(&ws.path))
            {
                check.file_block(&ws.path, Some(DirectoryType::Workspace), load_workspace(ws));
            }
        }
        // A file that is not even TOML stops the search; report it like any other broken file.
        Err(err) => {
            let file = err.location().map(|l| l.file.clone());
            check.file_block(
                file.as_deref().unwrap_or(Path::new("?")),
                None,
                Err(vec![err]),
            );
        }
    }

    if check.has_errors {
        Err(CliError::usage(
            "One or more TOML configuration files contain errors.",
        ))
    } else {
        check.printer.out("All TOML configuration files are valid.");
        Ok(())
    }
}

struct Check {
    printer: Printer,
    has_errors: bool,
}

impl Check {
    /// The nearest file; at a workspace root, also the projects it lists.
    fn root_file(&mut self, found: &FoundFile) {
        match found.directory_type {
            Some(DirectoryType::Workspace) => {
                let (result, projects) = match dg_config::load_found_file(found) {
                    Ok(file) => match &file.kind {
                        ConfigFileKind::Workspace(ws) => {
                            let entries = check_entries(ws);
                            let result = if entries.workspace_errors.is_empty() {
                                Ok(file.warnings.clone())
                            } else {
                                Err(entries.workspace_errors)
                            };
                            (result, entries.projects)
                        }
                        ConfigFileKind::Project(_) => (Ok(file.warnings.clone()), Vec::new()),
                    },
                    Err(err) => (Err(vec![err]), Vec::new()),
                };
                self.file_block(&found.path, found.directory_type, result);
                for (file, result) in projects {
                    self.file_block(&file, Some(DirectoryType::Project), result);
                }
            }
            _ => {
                let result = dg_config::load_found_file(found)
                    .map(|f| f.warnings)
                    .map_err(|e| vec![e]);
                self.file_block(&found.path, found.directory_type, result);
            }
        }
    }

    /// A blank line, `Found <type> configuration file: <path>`, valid or its errors, a blank line.
    fn file_block(&mut self, path: &Path, kind: Option<DirectoryType>, result: FileResult) {
        let (found, title) = match kind {
            Some(t) => (
                format!("{} configuration file", t.as_str()),
                format!("{} configuration file", capitalize(t.as_str())),
            ),
            None => (
                "configuration file".to_string(),
                "Configuration file".to_string(),
            ),
        };
        self.printer.out("");
        self.printer
            .out(format!("Found {found}: {}", path.display()));
        match result {
            Ok(warnings) => {
                self.printer.out(format!("{title} is valid."));
                for warning in &warnings {
                    self.printer.config_warning(warning);
                }
            }
            Err(errors) => {
                self.has_errors = true;
                self.printer.out(format!("{title} errors:\n"));
                for err in &errors {
                    self.printer.out(render(err));
                }
            }
        }
        self.printer.out("");
    }
}

/// A file's warnings when it is valid, else its errors.
type FileResult = Result<Vec<ConfigWarning>, Vec<ConfigError>>;

fn load_workspace(found: &FoundFile) -> FileResult {
    dg_config::load_found_file(found)
        .map(|f| f.warnings)
        .map_err(|e| vec![e])
}

/// What checking a workspace's entries found.
struct EntriesCheck {
    /// Problems with entries themselves, reported under the workspace file.
    workspace_errors: Vec<ConfigError>,
    /// Each project file that could be found, with its result.
    projects: Vec<(PathBuf, FileResult)>,
}

/// Checks each project a workspace lists. Problems with an entry itself (missing folder, not a
/// project, listed twice, repeated code location name) belong to the workspace file;
/// problems inside a project's own file are reported under that file.
fn check_entries(ws: &WorkspaceConfig) -> EntriesCheck {
    let mut check = EntriesCheck {
        workspace_errors: Vec::new(),
        projects: Vec::new(),
    };
    for result in ws.load_projects() {
        match result {
            Ok(project) => check
                .projects
                .push((project.file.clone(), Ok(project.warnings))),
            Err(err) => match err.location().map(|l| l.file.clone()) {
                Some(file) if file != ws.file => check.projects.push((file, Err(vec![err]))),
                _ => check.workspace_errors.push(err),
            },
        }
    }
    check
}

/// An error as a block of text: the message, its causes, then its hint.
fn render(err: &ConfigError) -> String {
    let mut out = err.to_string();
    let mut cause = std::error::Error::source(err);
    while let Some(c) = cause {
        out.push_str(&format!("\n  Caused by: {c}"));
        cause = c.source();
    }
    if let Some(hint) = err.hint() {
        out.push_str(&format!("\nhint: {hint}"));
    }
    out
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
