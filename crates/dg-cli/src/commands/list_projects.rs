//! `dg list projects`: the projects of the enclosing workspace, as their paths relative to the
//! workspace root in the order of the workspace file, or `.` in a standalone project. Run inside a
//! project of a workspace, it lists the whole workspace, like Dagster.
//!
//! Each listed project is loaded: projects that are fine are printed, each broken one is reported
//! as an error, and the command then fails (exit 2) so that scripts notice.

use std::path::PathBuf;

use dg_config::{ConfigError, Needs, ProjectConfig};
use serde::Serialize;

use crate::args::ListProjectsArgs;
use crate::error::{CliError, CliResult};
use crate::settings::Session;

/// One project in `--json` output.
#[derive(Debug, Serialize)]
struct ProjectJson {
    /// Relative to the workspace root, as written in the workspace file (`.` when standalone).
    path: String,
    /// Absolute project folder.
    root: PathBuf,
    root_module: String,
    defs_module: String,
    code_location_target_module: String,
    code_location_name: String,
}

impl ProjectJson {
    fn new(path: String, project: &ProjectConfig) -> Self {
        Self {
            path,
            root: project.root.clone(),
            root_module: project.root_module.clone(),
            defs_module: project.defs_module.clone(),
            code_location_target_module: project.code_location_target_module.clone(),
            code_location_name: project.code_location_name.clone(),
        }
    }
}

/// Runs `dg list projects`.
pub fn run(session: Session, args: &ListProjectsArgs) -> CliResult {
    let loaded = session.load(Some(Needs::ProjectOrWorkspace))?;
    let printer = loaded.printer;
    let context = loaded.context;

    let results: Vec<(String, Result<ProjectConfig, ConfigError>)> = match &context.workspace {
        Some(workspace) => workspace
            .projects
            .iter()
            .map(|entry| entry.display_path())
            .zip(workspace.load_projects())
            .collect(),
        None => context
            .project
            .iter()
            .map(|p| (".".to_string(), Ok(p.clone())))
            .collect(),
    };

    let mut listed = Vec::new();
    let mut errors = Vec::new();
    for (path, result) in results {
        match result {
            // Per-project warnings are left to commands that use the projects, as in Dagster.
            Ok(project) => listed.push(ProjectJson::new(path, &project)),
            Err(err) => errors.push(err),
        }
    }

    if args.json {
        let json = serde_json::to_string_pretty(&listed)
            .map_err(|e| CliError::usage(format!("Cannot serialize the project list: {e}")))?;
        printer.out(json);
    } else {
        for project in &listed {
            printer.out(&project.path);
        }
    }

    let Some(last) = errors.pop() else {
        return Ok(());
    };
    for err in errors {
        printer.error(&CliError::from_diagnostic(err));
    }
    Err(CliError::from_diagnostic(last))
}
