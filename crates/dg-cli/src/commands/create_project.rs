//! `create-dagster project PATH`: scaffold a project, register it in the enclosing workspace, and
//! create its environment with `uv sync`.
//!
//! Every refusal (name, target, `--uv-sync` without uv, a path the workspace lists already)
//! happens before the first write.

use std::path::{Component, Path};

use dg_scaffold::{create_project, ProjectRequest};

use crate::args::CreateProjectArgs;
use crate::create_sync::{self, display_path, UV_INSTALL_URL};
use crate::error::{CliError, CliResult};
use crate::printer::Printer;

/// Runs `create-dagster project`.
pub fn run(args: &CreateProjectArgs, printer: Printer) -> CliResult {
    let cwd = std::env::current_dir()
        .map_err(|e| CliError::usage(format!("cannot read the current folder: {e}")))?;
    let root = dg_scaffold::layout::absolute(&args.path, &cwd);
    if args.uv.uv_sync && !create_sync::uv_available() {
        return Err(create_sync::uv_missing());
    }
    let workspace = dg_config::find_enclosing_workspace(&existing_ancestor(&root))
        .map_err(CliError::from_diagnostic)?;
    let created = create_project(&ProjectRequest {
        root: root.clone(),
        dot: is_dot(&args.path),
        workspace: workspace.map(|ws| ws.root),
    })
    .map_err(CliError::from_diagnostic)?;

    let shown = display_path(&root);
    printer.status(format!(
        "Created the Dagster project `{}` at `{shown}` (Python package `{}`).",
        created.name.name, created.name.package
    ));
    report_kept(&created.kept, printer);
    if let Some((dg_toml, rel)) = &created.registered {
        printer.status(format!(
            "Added `{rel}` to the workspace's `{}`.",
            display_path(dg_toml)
        ));
    }

    let question =
        "Create the project's environment now with `uv sync` (writes `uv.lock` and `.venv`)?";
    if create_sync::decide(&args.uv, question, printer)? {
        if create_sync::uv_available() {
            create_sync::sync(&created.name.name, &root, printer)?;
        } else {
            printer.warn(format!(
                "`uv` was not found, so the project has no environment yet. Install uv \
                 ({UV_INSTALL_URL}) and run `uv sync` in `{shown}`, or `python3 -m venv .venv && \
                 .venv/bin/pip install -e .` there."
            ));
        }
    } else {
        printer.status(format!(
            "No environment created: run `uv sync` in `{shown}` (dg also does when a command first needs it)."
        ));
    }
    let cd = if shown == "." {
        String::new()
    } else {
        format!("`cd {shown}`, ")
    };
    printer.status(format!(
        "Next: {cd}add definitions with `dg scaffold defs dagster.asset my_asset.py`, then run `dg dev`."
    ));
    Ok(())
}

/// Says which of the user's own files were kept instead of the scaffolded ones.
pub fn report_kept(kept: &[std::path::PathBuf], printer: Printer) {
    if !kept.is_empty() {
        let list = kept
            .iter()
            .map(|p| format!("`{}`", p.display()))
            .collect::<Vec<_>>()
            .join(" and ");
        printer.status(format!("Kept the existing {list}."));
    }
}

/// Whether the user passed the current folder (`.`, `./`, `./.`).
pub fn is_dot(path: &Path) -> bool {
    path.components().all(|c| c == Component::CurDir) && !path.as_os_str().is_empty()
}

/// The deepest folder at or above `path` that exists: where discovery starts for a path that is
/// about to be created.
pub fn existing_ancestor(path: &Path) -> std::path::PathBuf {
    path.ancestors()
        .find(|p| p.is_dir())
        .unwrap_or(path)
        .to_path_buf()
}
