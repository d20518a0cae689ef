//! `dg scaffold defs <type> <path>`: write one small, working Python file with a Dagster
//! definition under the defs folder of the project around the current folder (or
//! `--target-path`).

use dg_config::Needs;
use dg_scaffold::{scaffold_defs, DefsRequest};

use crate::args::ScaffoldDefsArgs;
use crate::create_sync::display_path;
use crate::error::{CliError, CliResult};
use crate::settings::Session;

/// Runs `dg scaffold defs`.
pub fn run(session: Session, args: &ScaffoldDefsArgs) -> CliResult {
    // An unknown type is reported before discovery: it is wrong wherever the command runs.
    let kind = dg_scaffold::find_type(&args.type_name).map_err(CliError::from_diagnostic)?;
    let loaded = session.load(Some(Needs::Project))?;
    let printer = loaded.printer;
    let Some(project) = loaded.context.project else {
        // `require(Needs::Project)` above guarantees a project.
        return Err(CliError::usage("no project found"));
    };
    let written = scaffold_defs(&DefsRequest {
        defs_dir: project.defs_path(),
        type_name: args.type_name.clone(),
        path: args.path.clone(),
        asset_key: args.asset_key.clone(),
    })
    .map_err(CliError::from_diagnostic)?;
    printer.status(format!(
        "Created `{}` with a `{}` named `{}` in project `{}`.",
        display_path(&written),
        kind.name,
        written
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        project.name()
    ));
    Ok(())
}
