//! `dg list defs`: the definitions of the current project, as Dagster's table of sections or as
//! Dagster's `--json` document; from a workspace root, of every project (loaded in parallel), with
//! the code location shown.
//!
//! Differences from Dagster, all deliberate: a workspace root works (Dagster needs a project); a
//! selection that matches nothing lists no assets (Dagster then lists them all); snapshots are
//! cached, so an unchanged project lists without starting Python. `--path` (a file or folder in a
//! project's defs folder) loads only that part of the defs folder, as Dagster does, and bypasses
//! the cache.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use dg_config::Needs;
use dg_location::snapshot::DefinitionsSnapshot;
use dg_location::LocationSpec;
use dg_selection::AssetKey;

use crate::args::ListDefsArgs;
use crate::defs_listing::{is_reserved_job, Listing, Located};
use crate::defs_table;
use crate::error::{CliError, CliResult};
use crate::locations::report_failure;
use crate::locations::{self, LocationOutcome};
use crate::settings::list_defs::ListDefsSettings;
use crate::settings::Session;
use crate::workspace_graph::{executable_conflicts, selection_error};

/// Runs `dg list defs`.
pub fn run(session: Session, args: &ListDefsArgs) -> CliResult {
    let loaded = session.load(Some(Needs::ProjectOrWorkspace))?;
    let printer = loaded.printer;
    let settings = ListDefsSettings::resolve(args, printer)?;
    let workspace_scope = locations::is_workspace_scope(&loaded.context);
    let (mut specs, config_errors) = locations::context_locations(&loaded.context);
    if let Some(path) = &settings.path {
        specs = vec![spec_for_path(&loaded.context, path)?];
    }

    let verbose = loaded.settings.verbose;
    let outcomes = locations::load_locations(specs, &settings.load, printer, |outcome, bar| {
        if let Err(err) = &outcome.result {
            bar.suspend(|| report_failure(&printer, err, verbose));
        }
    });
    let broken: Vec<String> = config_errors.iter().map(|b| b.summary_name()).collect();
    for err in config_errors {
        printer.error(&CliError::from_diagnostic(err.error));
    }

    let ok: Vec<(&LocationOutcome, &DefinitionsSnapshot)> = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().ok().map(|l| (o, &l.snapshot)))
        .collect();
    let named = || ok.iter().map(|(o, s)| (o.name(), *s));
    for conflict in executable_conflicts(named()) {
        printer.warn(conflict.warning());
    }
    let selected = match &settings.selection {
        Some(expr) => {
            let graph = dg_workspace::Workspace::new(named()).graph;
            Some(dg_selection::select(&graph, expr).map_err(selection_error)?)
        }
        None => None,
    };

    let mut listing = Listing::default();
    let defined: HashSet<String> = ok
        .iter()
        .flat_map(|(_, s)| s.assets.iter())
        .filter(|a| !a.is_auto_created_stub)
        .map(|a| a.key_string())
        .collect();
    for (outcome, snapshot) in &ok {
        add_location(
            &mut listing,
            outcome.name(),
            snapshot,
            selected.as_ref(),
            // In a workspace, another location's asset is listed where it is defined, not as
            // the stub Dagster creates for a dependency on it.
            workspace_scope.then_some(&defined),
        );
    }
    listing.sort();

    if settings.json {
        printer.out(listing.to_json(workspace_scope));
    } else if !ok.is_empty() {
        printer.out(defs_table::render(
            &listing,
            &settings.columns,
            workspace_scope,
        ));
    }
    failure_summary(&outcomes, &broken)
}

/// Adds what one location contributes: with a selection, only the selected assets and their
/// checks (like Dagster); stubs of keys in `hide_stubs_of` are left out.
fn add_location<'a>(
    listing: &mut Listing<'a>,
    location: &'a str,
    snapshot: &'a DefinitionsSnapshot,
    selected: Option<&BTreeSet<AssetKey>>,
    hide_stubs_of: Option<&HashSet<String>>,
) {
    let at = |item| Located { location, item };
    let is_selected = |key: &[String]| selected.is_none_or(|keys| keys.contains(key));
    for asset in &snapshot.assets {
        let hidden_stub = asset.is_auto_created_stub
            && hide_stubs_of.is_some_and(|keys| keys.contains(&asset.key_string()));
        if !hidden_stub && is_selected(&asset.key) {
            listing.assets.push(at(asset));
        }
    }
    for check in &snapshot.asset_checks {
        if is_selected(&check.asset_key) {
            listing.asset_checks.push(Located {
                location,
                item: check,
            });
        }
    }
    // Like Dagster: a selection lists assets and their checks only.
    if selected.is_some() {
        return;
    }
    listing.jobs.extend(
        snapshot
            .jobs
            .iter()
            .filter(|j| !is_reserved_job(&j.name))
            .map(|item| Located { location, item }),
    );
    listing.schedules.extend(
        snapshot
            .schedules
            .iter()
            .map(|item| Located { location, item }),
    );
    listing.sensors.extend(
        snapshot
            .sensors
            .iter()
            .map(|item| Located { location, item }),
    );
    listing.resources.extend(
        snapshot
            .resources
            .iter()
            .map(|item| Located { location, item }),
    );
}

/// The location of the project that holds `path`, loading only the module of the defs folder at
/// `path` (a package folder or a `.py` file).
fn spec_for_path(context: &dg_config::Context, path: &Path) -> CliResult<LocationSpec> {
    let path = std::path::absolute(path)
        .ok()
        .filter(|p| p.exists())
        .and_then(|p| p.canonicalize().ok())
        .ok_or_else(|| {
            CliError::usage(format!("`--path` `{}` does not exist", path.display()))
                .with_hint("Pass a file or folder inside a project's defs folder.")
        })?;
    for project in context.projects().into_iter().flatten() {
        let defs = project.defs_path();
        let defs = defs.canonicalize().unwrap_or(defs);
        let Ok(relative) = path.strip_prefix(&defs) else {
            continue;
        };
        let mut module = project.defs_module.clone();
        for part in relative.with_extension("").components() {
            module.push('.');
            module.push_str(&part.as_os_str().to_string_lossy());
        }
        let mut spec = locations::project_location(context, &project);
        // No module has this name, so the agent takes the defs-folder path with `module` as the
        // defs module: a folder is autoloaded; a file gets what Dagster's component tree builds
        // for it (every kind of definition in it, sensors and schedules included), never the
        // target module's search for one `Definitions` object.
        spec.target_module = Some(format!("{}.__dg_no_target_module__", project.root_module));
        spec.defs_module = Some(module);
        return Ok(spec);
    }
    Err(CliError::usage(format!(
        "`--path` `{}` is not inside the defs folder of a project",
        path.display()
    ))
    .with_hint(
        "Pass a file or folder under a project's defs folder (`src/<package>/defs` by default).",
    ))
}

/// Exit status after listing: every failure was already printed; the command fails with the
/// most serious exit code among them (1 for user code, 2 for configuration). `broken` names the
/// projects whose configuration could not be read ([`locations::BrokenProject::summary_name`]).
fn failure_summary(outcomes: &[LocationOutcome], broken: &[String]) -> CliResult {
    use dg_config::diagnostic::Diagnostic;
    let failed: Vec<&LocationOutcome> = outcomes.iter().filter(|o| o.result.is_err()).collect();
    if failed.is_empty() && broken.is_empty() {
        return Ok(());
    }
    let code = failed
        .iter()
        .filter_map(|o| o.result.as_ref().err())
        .map(|e| e.exit_code())
        .chain((!broken.is_empty()).then_some(2))
        .min()
        .unwrap_or(2);
    let names: Vec<String> = failed
        .iter()
        .map(|o| format!("`{}`", o.name()))
        .chain(broken.iter().cloned())
        .collect();
    let mut err = CliError::user_code(match names.as_slice() {
        [only] => format!("code location {only} failed to load"),
        _ => format!(
            "{} code locations failed to load: {}",
            names.len(),
            names.join(", ")
        ),
    });
    err.code = code;
    Err(err.with_hint("Fix the errors above; the definitions that loaded are listed."))
}
