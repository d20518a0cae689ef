//! `dg check defs`: load and validate the definitions of the current project, or of every project
//! of the workspace at its root. All locations load at once, each in its own environment; each
//! result is printed as soon as it is ready (a progress bar shows while waiting); every failure is
//! shown, never only the first; a location that hangs is stopped after `--timeout`.
//!
//! After loading, keys that two locations both define as executable are reported as warnings
//! naming both locations (Dagster's `dg check defs` passes; its workspace lets one win silently).
//! They do not fail the check, so CI that passes with Dagster passes with us; launching such a
//! key is where it becomes an error (`dg launch` and `POST /api/runs` ask which location). A
//! non-executable spec or stub for another location's asset is no conflict at all. Exit 0 when
//! everything loaded, 1 when user code failed, 2 when only configuration or environments are at
//! fault.
//!
//! `DAGSTER_IS_DEFS_VALIDATION_CLI=1` is set for the loading code, as Dagster does.

use dg_config::diagnostic::{Diagnostic, EXIT_USAGE, EXIT_USER_CODE};
use dg_config::{env as vars, Needs};
use dg_location::LoadError;
use serde::Serialize;

use crate::args::{CheckDefsArgs, LogFormat, LogLevel};
use crate::defs_listing::{is_reserved_job, to_json_4};
use crate::error::{CliError, CliResult};
use crate::locations::{self, load_error, report_failure, seconds, LocationOutcome};
use crate::printer::Printer;
use crate::settings::check_defs::CheckDefsSettings;
use crate::settings::Session;
use crate::workspace_graph::{executable_conflicts, Conflict};

/// Runs `dg check defs`.
pub fn run(session: Session, args: &CheckDefsArgs) -> CliResult {
    let loaded = session.load(Some(Needs::ProjectOrWorkspace))?;
    let printer = loaded.printer;
    let settings = CheckDefsSettings::resolve(args, printer);
    let workspace_scope = locations::is_workspace_scope(&loaded.context);
    if settings.check_yaml && workspace_scope {
        return Err(
            CliError::usage("`--check-yaml` is not supported from a workspace root").with_hint(
                "Run `dg check defs --check-yaml` inside one project, or leave out the flag.",
            ),
        );
    }
    // Before any thread exists: the agents inherit it (and it is part of the cache key, since
    // user code may behave differently under validation).
    std::env::set_var(vars::DAGSTER_IS_DEFS_VALIDATION_CLI, "1");

    let (specs, config_errors) = locations::context_locations(&loaded.context);
    let log = Log {
        printer,
        level: settings.level,
        format: settings.format,
        verbose: loaded.settings.verbose,
    };
    let broken: Vec<String> = config_errors.iter().map(|b| b.summary_name()).collect();
    for err in config_errors {
        log.config_error(err.error);
    }
    let base = loaded
        .context
        .root()
        .map(|p| p.to_path_buf())
        .unwrap_or_default();
    let outcomes = locations::load_locations(specs, &settings.load, printer, |outcome, bar| {
        bar.suspend(|| log.outcome(outcome, &base));
    });

    let ok = || {
        outcomes
            .iter()
            .filter_map(|o| o.result.as_ref().ok().map(|l| (o.name(), &l.snapshot)))
    };
    let conflicts = executable_conflicts(ok());
    for conflict in &conflicts {
        log.conflict(conflict);
    }
    let failed: Vec<&LocationOutcome> = outcomes.iter().filter(|o| o.result.is_err()).collect();
    if settings.json {
        printer.out(to_json_4(&CheckJson::new(
            &outcomes,
            &conflicts,
            &base,
            broken.len(),
        )));
    }
    if failed.is_empty() && broken.is_empty() {
        if !settings.json {
            printer.out("All definitions loaded successfully.");
        }
        return Ok(());
    }
    let user_code_failed = failed
        .iter()
        .filter_map(|o| o.result.as_ref().err())
        .any(|e| e.exit_code() == EXIT_USER_CODE);
    let mut problems = Vec::new();
    if let ([only], [_], 0) = (&failed[..], &outcomes[..], broken.len()) {
        problems.push(format!("code location `{}` did not load", only.name()));
    } else if !failed.is_empty() || !broken.is_empty() {
        // Each failure once: locations by name, unreadable projects by their listed path.
        let names: Vec<String> = failed
            .iter()
            .map(|o| format!("`{}`", o.name()))
            .chain(broken.iter().cloned())
            .collect();
        problems.push(format!(
            "{} of {} code locations failed to load: {}",
            names.len(),
            outcomes.len() + broken.len(),
            names.join(", ")
        ));
    }
    let mut err = CliError::user_code(format!("Validation failed: {}", problems.join("; ")));
    err.code = if user_code_failed {
        EXIT_USER_CODE
    } else {
        EXIT_USAGE
    };
    Err(err.with_hint("Fix the errors above and run `dg check defs` again."))
}

/// How results are reported on stderr (`--log-level`, `--log-format`, `--verbose`).
struct Log {
    printer: Printer,
    level: LogLevel,
    format: LogFormat,
    verbose: bool,
}

impl Log {
    fn outcome(&self, outcome: &LocationOutcome, base: &std::path::Path) {
        match &outcome.result {
            Ok(loaded) => {
                if self.level > LogLevel::Warning {
                    return;
                }
                let s = &loaded.snapshot;
                let how = if loaded.from_cache {
                    "cached".to_string()
                } else {
                    seconds(outcome.elapsed)
                };
                let message = format!(
                    "Validation successful for code location `{}` ({}): {} ({how})",
                    outcome.name(),
                    outcome.display_root(base),
                    counts(s)
                );
                match self.format {
                    LogFormat::Json => self.json_line("INFO", Some(outcome.name()), &message, None),
                    _ => self.printer.status(format!("  ok {message}")),
                }
                if self.level == LogLevel::Debug && self.format != LogFormat::Json {
                    for line in loaded.logs.stdout.iter().chain(&loaded.logs.stderr) {
                        self.printer
                            .status(format!("     [{}] {line}", outcome.name()));
                    }
                }
            }
            Err(err) => self.load_failure(outcome.name(), err),
        }
    }

    fn load_failure(&self, location: &str, err: &LoadError) {
        match self.format {
            LogFormat::Json => {
                let details = err.details(self.verbose).unwrap_or_default();
                self.error(Some(location), &load_error(err), &details);
            }
            _ => report_failure(&self.printer, err, self.verbose),
        }
    }

    /// `warning: ...` then `hint: ...`, or a `WARNING` line in the JSON log format.
    fn conflict(&self, conflict: &Conflict) {
        match self.format {
            LogFormat::Json => {
                let err = CliError::user_code(conflict.message()).with_hint(conflict.hint());
                self.json_line("WARNING", None, &err.message, Some((&err, "")))
            }
            _ => self.printer.warn(conflict.warning()),
        }
    }

    fn config_error(&self, err: dg_config::ConfigError) {
        self.error(None, &CliError::from_diagnostic(err), "");
    }

    fn error(&self, location: Option<&str>, err: &CliError, details: &str) {
        match self.format {
            LogFormat::Json => {
                self.json_line("ERROR", location, &err.message, Some((err, details)))
            }
            _ => self.printer.error(err),
        }
    }

    fn json_line(
        &self,
        level: &str,
        location: Option<&str>,
        message: &str,
        error: Option<(&CliError, &str)>,
    ) {
        let line = serde_json::json!({
            "level": level,
            "code_location": location,
            "message": message,
            "hint": error.and_then(|(e, _)| e.hint.clone()),
            "details": error.map(|(_, d)| d).filter(|d| !d.is_empty()),
        });
        self.printer.status(line.to_string());
    }
}

/// `5 assets, 1 asset check, 2 jobs` (kinds with none left out).
fn counts(s: &dg_location::DefinitionsSnapshot) -> String {
    let parts: Vec<String> = [
        (
            s.assets.iter().filter(|a| !a.is_auto_created_stub).count(),
            "asset",
        ),
        (s.asset_checks.len(), "asset check"),
        (
            s.jobs.iter().filter(|j| !is_reserved_job(&j.name)).count(),
            "job",
        ),
        (s.schedules.len(), "schedule"),
        (s.sensors.len(), "sensor"),
        (s.resources.len(), "resource"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}{}", if n == 1 { "" } else { "s" }))
    .collect();
    if parts.is_empty() {
        "no definitions".into()
    } else {
        parts.join(", ")
    }
}

/// `dg check defs --json`: one entry per location, then the conflicts (warnings: they do not
/// make `success` false).
#[derive(Serialize)]
struct CheckJson {
    success: bool,
    locations: Vec<LocationJson>,
    conflicts: Vec<ConflictJson>,
}

#[derive(Serialize)]
struct LocationJson {
    name: String,
    root: String,
    status: &'static str,
    from_cache: bool,
    seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorJson>,
}

#[derive(Serialize)]
struct ErrorJson {
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<String>,
}

#[derive(Serialize)]
struct ConflictJson {
    asset_key: String,
    code_locations: Vec<String>,
}

impl CheckJson {
    fn new(
        outcomes: &[LocationOutcome],
        conflicts: &[Conflict],
        base: &std::path::Path,
        config_errors: usize,
    ) -> Self {
        let locations: Vec<LocationJson> = outcomes
            .iter()
            .map(|o| LocationJson {
                name: o.name().to_string(),
                root: o.display_root(base),
                status: if o.result.is_ok() { "ok" } else { "failed" },
                from_cache: o.result.as_ref().is_ok_and(|l| l.from_cache),
                seconds: (o.elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
                error: o.result.as_ref().err().map(|e| {
                    let at = e.user_error().and_then(|u| u.location());
                    ErrorJson {
                        message: e.to_string(),
                        file: at.as_ref().map(|(f, _)| f.clone()),
                        line: at.map(|(_, l)| l),
                        hint: e.hint(),
                        details: e.details(false),
                    }
                }),
            })
            .collect();
        Self {
            success: config_errors == 0 && locations.iter().all(|l| l.status == "ok"),
            locations,
            conflicts: conflicts
                .iter()
                .map(|c| ConflictJson {
                    asset_key: c.key.clone(),
                    code_locations: c.locations.clone(),
                })
                .collect(),
        }
    }
}
