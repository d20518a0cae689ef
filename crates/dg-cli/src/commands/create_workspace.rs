//! `create-dagster workspace PATH`: scaffold a workspace (`dg.toml`, `projects/`, the root's
//! `pyproject.toml`, `README.md` and `.gitignore`) and create its root environment with uv.
//!
//! A workspace inside another workspace is refused before anything is written.

use dg_scaffold::{create_workspace, WorkspaceRequest};

use super::create_project::{existing_ancestor, is_dot};
use crate::args::CreateWorkspaceArgs;
use crate::create_sync::{self, display_path, UV_INSTALL_URL};
use crate::error::{CliError, CliResult};
use crate::printer::Printer;

/// Runs `create-dagster workspace`.
pub fn run(args: &CreateWorkspaceArgs, printer: Printer) -> CliResult {
    let cwd = std::env::current_dir()
        .map_err(|e| CliError::usage(format!("cannot read the current folder: {e}")))?;
    let root = dg_scaffold::layout::absolute(&args.path, &cwd);
    if args.uv.uv_sync && !create_sync::uv_available() {
        return Err(create_sync::uv_missing());
    }
    let enclosing = dg_config::find_enclosing_workspace(&existing_ancestor(&root))
        .map_err(CliError::from_diagnostic)?;
    let created = create_workspace(&WorkspaceRequest {
        root: root.clone(),
        dot: is_dot(&args.path),
        enclosing: enclosing.map(|ws| ws.root),
    })
    .map_err(CliError::from_diagnostic)?;
    let name = created.name;

    let shown = display_path(&root);
    printer.status(format!(
        "Created the Dagster workspace `{name}` at `{shown}`."
    ));
    super::create_project::report_kept(&created.kept, printer);
    let question =
        "Create the workspace's own environment now with `uv sync` (writes `uv.lock` and `.venv`)?";
    if create_sync::decide(&args.uv, question, printer)? {
        if create_sync::uv_available() {
            create_sync::sync(&name, &root, printer)?;
        } else {
            printer.warn(format!(
                "`uv` was not found, so the workspace has no environment yet. Install uv \
                 ({UV_INSTALL_URL}) and run `uv sync` in `{shown}`."
            ));
        }
    }
    let cd = if shown == "." {
        String::new()
    } else {
        format!("`cd {shown}` and ")
    };
    printer.status(format!(
        "Next: {cd}add a project with `create-dagster project projects/my-project`."
    ));
    Ok(())
}
