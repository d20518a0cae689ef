//! Loading the code locations of the current context, for every command that needs user
//! definitions (`dg list defs`, `dg check defs`, and any other command that wants snapshots).
//!
//! - [`LoadSettings`] (resolved in [`crate::settings::load`]) says how they load.
//! - [`context_locations`] picks the locations: the enclosing project, or every project of the
//!   workspace at a workspace root; projects whose config is broken come back as errors.
//! - [`load_locations`] loads them all in parallel with a progress bar and hands each result to a
//!   callback as soon as it finishes, then returns every outcome in the order of the specs.
//!
//! One location failing, hanging or crashing never stops the others (`dg_location::load_all`).

use std::path::Path;
use std::time::{Duration, Instant};

use dg_config::{ConfigError, Context, ProjectConfig};
use dg_location::{load_all, LoadError, LoadedLocation, LocationSpec};
use indicatif::ProgressBar;

use dg_config::diagnostic::Diagnostic;

use crate::error::CliError;
use crate::printer::Printer;
pub use crate::settings::load::LoadSettings;

/// A workspace project whose configuration failed to load, so it has no location name.
#[derive(Debug)]
pub struct BrokenProject {
    /// The entry's `path` as listed in the workspace file (the name it goes by in summaries).
    pub path: String,
    /// Why it failed.
    pub error: ConfigError,
}

impl BrokenProject {
    /// The project for a summary line: its listed path and, when known, the file:line at fault.
    pub fn summary_name(&self) -> String {
        match self.error.location() {
            Some(at) => format!("`{}` at {at}", self.path),
            None => format!("`{}`", self.path),
        }
    }
}

/// The code location of `project` in `context` (the one place a spec is built from a project:
/// it names the workspace file the project is listed in, if any).
pub fn project_location(context: &Context, project: &ProjectConfig) -> LocationSpec {
    let workspace_file = context.workspace.as_ref().map(|w| w.file.as_path());
    LocationSpec::from_project(project, workspace_file)
}

/// The code locations of the context: the enclosing project, or each project of the workspace
/// (at a workspace root), with the projects whose configuration failed to load.
pub fn context_locations(context: &Context) -> (Vec<LocationSpec>, Vec<BrokenProject>) {
    // At a workspace root there is one result per `[[workspace.projects]]` entry, in order.
    let listed: Vec<String> = match (&context.project, &context.workspace) {
        (None, Some(ws)) => ws.projects.iter().map(|e| e.display_path()).collect(),
        _ => Vec::new(),
    };
    let mut specs = Vec::new();
    let mut errors = Vec::new();
    for (i, project) in context.projects().into_iter().enumerate() {
        match project {
            Ok(project) => specs.push(project_location(context, &project)),
            Err(error) => errors.push(BrokenProject {
                path: listed.get(i).cloned().unwrap_or_else(|| ".".to_string()),
                error,
            }),
        }
    }
    (specs, errors)
}

/// Whether the command runs for a whole workspace (at its root) rather than one project.
pub fn is_workspace_scope(context: &Context) -> bool {
    context.project.is_none() && context.workspace.is_some()
}

/// One location's result, with how long it took from the start of [`load_locations`].
#[derive(Debug)]
pub struct LocationOutcome {
    pub spec: LocationSpec,
    pub result: Result<LoadedLocation, LoadError>,
    /// Wall time from the start of loading until this location finished.
    pub elapsed: Duration,
}

impl LocationOutcome {
    /// The location's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The project root relative to `base` when below it (for messages), else the full path.
    pub fn display_root(&self, base: &Path) -> String {
        self.spec
            .root
            .strip_prefix(base)
            .ok()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(&self.spec.root)
            .display()
            .to_string()
    }
}

/// Loads every location in parallel; `on_done` sees each outcome as soon as it is ready (in
/// completion order) together with the progress bar, so it can print above the bar with
/// `bar.suspend`. Returns the outcomes in the order of `specs`.
pub fn load_locations(
    specs: Vec<LocationSpec>,
    settings: &LoadSettings,
    printer: Printer,
    mut on_done: impl FnMut(&LocationOutcome, &ProgressBar),
) -> Vec<LocationOutcome> {
    let order: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
    let total = specs.len();
    let bar = if total == 1 {
        printer.spinner(format!("Loading code location `{}`", order[0]))
    } else {
        printer.progress(total as u64, "Loading code locations")
    };
    let start = Instant::now();
    let mut outcomes = Vec::with_capacity(total);
    for (spec, result) in load_all(specs, settings.options.clone()) {
        let outcome = LocationOutcome {
            spec,
            result,
            elapsed: start.elapsed(),
        };
        bar.inc(1);
        if let Ok(loaded) = &outcome.result {
            let how = match (&loaded.from_cache, &loaded.cache_miss) {
                (true, _) => "snapshot from the cache, no Python started".to_string(),
                (false, Some(why)) => format!(
                    "loaded in {} (the cached snapshot was not used: {why})",
                    seconds(outcome.elapsed)
                ),
                (false, None) => format!("loaded in {}", seconds(outcome.elapsed)),
            };
            bar.suspend(|| printer.debug(format!("code location `{}`: {how}", outcome.name())));
        }
        on_done(&outcome, &bar);
        outcomes.push(outcome);
    }
    bar.finish_and_clear();
    outcomes.sort_by_key(|o| order.iter().position(|n| n == o.name()));
    outcomes
}

/// Prints a location that failed to load: the error (naming the location, file and line), the
/// traceback with system frames folded unless `verbose`, and the hint. With `verbose`, what user
/// code wrote to stderr before failing follows the traceback.
pub fn report_failure(printer: &Printer, err: &LoadError, verbose: bool) {
    let cli = load_error(err);
    let mut details = err.details(verbose).unwrap_or_default();
    if let (true, LoadError::UserCode { stderr, .. }) = (verbose, err) {
        if !stderr.trim().is_empty() {
            details.push_str("\nOutput on stderr while loading:\n");
            details.push_str(stderr);
        }
    }
    if details.trim().is_empty() {
        printer.error(&cli);
    } else {
        printer.error_with_details(&cli, &details);
    }
}

/// A load error as a command error (message, causes, hint, exit code), keeping the original.
pub fn load_error(err: &LoadError) -> CliError {
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        causes.push(s.to_string());
        source = s.source();
    }
    let mut cli = CliError::usage(err.to_string());
    cli.causes = causes;
    cli.hint = err.hint();
    cli.code = err.exit_code();
    cli
}

/// Seconds with one decimal (`2.1s`) for status lines.
pub fn seconds(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}
