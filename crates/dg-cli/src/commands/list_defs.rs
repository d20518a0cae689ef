//! `dg list defs`: the definitions of the current project, as Dagster's table of sections or as
//! Dagster's `--json` document; from a workspace root, of every project (loaded in parallel), with
//! the code location shown.
//!
//! Differences from Dagster, all deliberate: a workspace root works (Dagster needs a project); a
//! selection that matches nothing lists no assets (Dagster then lists them all); `--path` keeps
//! the definitions whose source file lies under the path (Dagster builds only that part of the
//! component tree, so definitions without a source file are left out here too); snapshots are
//! cached, so an unchanged project lists without starting Python.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use dg_config::Needs;
use dg_location::snapshot::DefinitionsSnapshot;
use dg_selection::AssetKey;

use crate::args::{GlobalArgs, ListDefsArgs};
use crate::commands::defs_listing::{Listing, Located};
use crate::commands::locations::{self, LoadSettings, LocationOutcome};
use crate::commands::workspace_graph::{asset_graph, executable_conflicts, selection_error};
use crate::commands::{defs_table, locations::report_failure};
use crate::error::{CliError, CliResult};
use crate::settings;

/// Runs `dg list defs`.
pub fn run(global: &GlobalArgs, args: &ListDefsArgs) -> CliResult {
    let loaded = settings::load(global, Some(Needs::ProjectOrWorkspace))?;
    let printer = loaded.printer;
    if args.json && !args.columns.is_empty() {
        return Err(CliError::usage("Cannot use `--columns` with `--json`")
            .with_hint("Leave out `--columns`: the JSON has every field."));
    }
    let columns = defs_table::parse_columns(&args.columns)?;
    let selection = args
        .assets
        .as_deref()
        .map(dg_selection::parse)
        .transpose()
        .map_err(selection_error)?;
    let workspace_scope = locations::is_workspace_scope(&loaded.context);
    let (mut specs, config_errors) = locations::context_locations(&loaded.context);
    let path_filter = match &args.path {
        Some(path) => {
            let path = absolute(path, &loaded.settings.target_path)?;
            specs.retain(|s| path.starts_with(&s.root));
            if specs.is_empty() {
                return Err(CliError::usage(format!(
                    "`--path` `{}` is not inside a project of this context",
                    path.display()
                ))
                .with_hint(
                    "Pass a file or folder inside a project (for example its defs folder).",
                ));
            }
            Some(path)
        }
        None => None,
    };

    let settings = LoadSettings::resolve(&args.load, printer);
    let verbose = loaded.settings.verbose;
    let outcomes = locations::load_locations(specs, &settings, printer, |outcome, bar| {
        if let Err(err) = &outcome.result {
            bar.suspend(|| report_failure(&printer, err, verbose));
        }
    });
    let config_error_count = config_errors.len();
    for err in config_errors {
        printer.error(&CliError::from_diagnostic(err));
    }

    let ok: Vec<(&LocationOutcome, &DefinitionsSnapshot)> = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().ok().map(|l| (o, &l.snapshot)))
        .collect();
    let named = || ok.iter().map(|(o, s)| (o.name(), *s));
    for conflict in executable_conflicts(named()) {
        printer.warn(format!("{}. {}", conflict.message(), conflict.hint()));
    }
    let selected = match &selection {
        Some(expr) => {
            Some(dg_selection::select(&asset_graph(named()), expr).map_err(selection_error)?)
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
        let under_path = |source: &Option<String>| match &path_filter {
            None => true,
            Some(path) => source
                .as_deref()
                .is_some_and(|s| source_is_under(&outcome.spec.root, s, path)),
        };
        add_location(
            &mut listing,
            outcome.name(),
            snapshot,
            &Filters {
                selected: selected.as_ref(),
                // In a workspace, another location's asset is listed where it is defined, not as
                // the stub Dagster creates for a dependency on it.
                hide_stubs_of: workspace_scope.then_some(&defined),
                under_path: &under_path,
            },
        );
    }
    listing.sort();

    if args.json {
        printer.out(listing.to_json(workspace_scope));
    } else if !ok.is_empty() {
        printer.out(defs_table::render(&listing, &columns, workspace_scope));
    }
    failure_summary(&outcomes, config_error_count)
}

/// What one location contributes to the listing.
struct Filters<'a> {
    selected: Option<&'a BTreeSet<AssetKey>>,
    hide_stubs_of: Option<&'a HashSet<String>>,
    under_path: &'a dyn Fn(&Option<String>) -> bool,
}

fn add_location<'a>(
    listing: &mut Listing<'a>,
    location: &'a str,
    snapshot: &'a DefinitionsSnapshot,
    filters: &Filters<'_>,
) {
    let at = |item| Located { location, item };
    let is_selected = |key: &[String]| {
        filters
            .selected
            .is_none_or(|keys| keys.contains(&AssetKey(key.to_vec())))
    };
    for asset in &snapshot.assets {
        let hidden_stub = asset.is_auto_created_stub
            && filters
                .hide_stubs_of
                .is_some_and(|keys| keys.contains(&asset.key_string()));
        if !hidden_stub && is_selected(&asset.key) && (filters.under_path)(&asset.source) {
            listing.assets.push(at(asset));
        }
    }
    for check in &snapshot.asset_checks {
        if is_selected(&check.asset_key) && (filters.under_path)(&check.source) {
            listing.asset_checks.push(Located {
                location,
                item: check,
            });
        }
    }
    // Like Dagster: a selection lists assets and their checks only.
    if filters.selected.is_some() {
        return;
    }
    let keep = |source: &Option<String>| (filters.under_path)(source);
    listing.jobs.extend(
        snapshot
            .jobs
            .iter()
            .filter(|j| keep(&j.source))
            .map(|item| Located { location, item }),
    );
    listing.schedules.extend(
        snapshot
            .schedules
            .iter()
            .filter(|s| keep(&s.source))
            .map(|item| Located { location, item }),
    );
    listing.sensors.extend(
        snapshot
            .sensors
            .iter()
            .filter(|s| keep(&s.source))
            .map(|item| Located { location, item }),
    );
    listing.resources.extend(
        snapshot
            .resources
            .iter()
            .filter(|_| keep(&None))
            .map(|item| Located { location, item }),
    );
}

/// Whether a `path:line` source relative to `root` lies under `path`.
fn source_is_under(root: &Path, source: &str, path: &Path) -> bool {
    let file = source
        .rsplit_once(':')
        .filter(|(_, line)| line.chars().all(|c| c.is_ascii_digit()))
        .map_or(source, |(file, _)| file);
    root.join(file).starts_with(path)
}

fn absolute(path: &Path, base: &Path) -> CliResult<PathBuf> {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .unwrap_or_else(|_| base.to_path_buf())
            .join(path)
    };
    if !joined.exists() {
        return Err(
            CliError::usage(format!("`--path` `{}` does not exist", path.display()))
                .with_hint("Pass a file or folder inside the project's defs folder."),
        );
    }
    Ok(joined.canonicalize().unwrap_or(joined))
}

/// Exit status after listing: every failure was already printed; the command fails with the
/// most serious exit code among them (1 for user code, 2 for configuration).
fn failure_summary(outcomes: &[LocationOutcome], config_errors: usize) -> CliResult {
    use dg_config::diagnostic::Diagnostic;
    let failed: Vec<&LocationOutcome> = outcomes.iter().filter(|o| o.result.is_err()).collect();
    if failed.is_empty() && config_errors == 0 {
        return Ok(());
    }
    let code = failed
        .iter()
        .filter_map(|o| o.result.as_ref().err())
        .map(|e| e.exit_code())
        .chain((config_errors > 0).then_some(2))
        .min()
        .unwrap_or(2);
    let names: Vec<String> = failed.iter().map(|o| format!("`{}`", o.name())).collect();
    let total = failed.len() + config_errors;
    let mut err = CliError::user_code(if names.is_empty() {
        format!("{total} project(s) could not be read")
    } else if total == 1 {
        format!("code location {} failed to load", names[0])
    } else {
        format!(
            "{total} code locations failed to load: {}",
            names.join(", ")
        )
    });
    err.code = code;
    Err(err.with_hint("Fix the errors above; the definitions that loaded are listed."))
}
