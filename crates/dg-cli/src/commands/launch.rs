//! `dg launch`: materialize an asset selection (`--assets`) or execute a job (`--job`), with
//! Dagster's flags, from a project or from a workspace root, recorded in the instance
//! (`$DAGSTER_HOME`, else `.dagster/` at the workspace or project root).
//!
//! In a project, one agent is started: its snapshot resolves the selection and the same process
//! executes the run. At a workspace root, snapshots of every location (cached when unchanged)
//! resolve the selection over the whole workspace; it runs as one run per location, upstream
//! locations first, each in a fresh agent; a failed run stops the runs after it. A selected asset
//! that two locations both define as materializable is ambiguous: the command names both and asks
//! for `--location`, which runs only what that location defines. Events are printed
//! as they are stored; Ctrl-C cancels the current run (a second Ctrl-C kills everything at once).
//! Exit 0 when every run succeeded, 1 when one failed or was canceled, 2 for usage errors.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dg_config::diagnostic::Diagnostic;
use dg_config::{Context, Needs};
use dg_location::{DefinitionsSnapshot, LocationSpec};
use dg_python::PythonEnvironment;
use dg_runs::display::{event_line, EventLine};
use dg_runs::{
    execute_run, start_agent, CancelToken, EventObserver, Launcher, OutputObserver, RunContext,
    RunOutcome, RunRequest, RunTarget,
};
use dg_selection::SelectOptions;
use dg_storage::{EventRecord, RunStatus};
use dg_workspace::{ResolveError, Target, Workspace};

use crate::args::LaunchArgs;
use crate::error::{CliError, CliResult};
use crate::locations::{
    context_locations, is_workspace_scope, load_error, load_locations, report_failure, LoadSettings,
};
use crate::printer::{styles, Printer};
use crate::settings::launch::LaunchSettings;
use crate::settings::Session;
use crate::workspace_graph::selection_error;

/// Seconds between a run's worker getting `SIGTERM` on Ctrl-C and being killed.
const CANCEL_GRACE: Duration = Duration::from_secs(10);

/// One planned run: where, what, and the agent that will execute it.
struct Planned {
    launcher: Launcher,
    request: RunRequest,
}

/// Runs `dg launch`.
pub fn run(session: Session, args: &LaunchArgs) -> CliResult {
    let loaded = session.load(Some(Needs::ProjectOrWorkspace))?;
    let printer = loaded.printer;
    let context = loaded.context;
    let settings = LaunchSettings::resolve(args, printer)?;
    let cancel = CancelToken::new();
    // Without the handler Ctrl-C would still end us; the run would then be marked failed later.
    if let Err(e) = dg_runs::cancel_on_signals(&cancel) {
        printer.warn(format!("Ctrl-C will not cancel runs cleanly: {e}"));
    }

    let (specs, config_errors) = context_locations(&context);
    for broken in config_errors {
        printer.error(&CliError::from_diagnostic(broken.error));
    }
    if specs.is_empty() {
        return Err(CliError::usage("no project to launch from").with_hint(
            "Run `dg launch` inside a project, or at the root of a workspace with projects.",
        ));
    }
    let planned = {
        let _watch = InterruptWhilePlanning::start(&cancel);
        if is_workspace_scope(&context) {
            plan_workspace(specs, &settings, &settings.load, printer)?
        } else {
            let spec = specs.into_iter().next().expect("one project");
            plan_project(spec, &settings, &settings.load, printer)?
        }
    };
    if cancel.is_canceled() {
        return Err(CliError::user_code("canceled before any run started"));
    }
    execute_all(&context, planned, cancel, printer)
}

/// While the locations load (an automatic `uv sync`, agents importing code), a Ctrl-C is
/// forwarded to those children at once: no run has started, so nothing needs a clean cancel, and
/// without this uv would keep syncing until it finished on its own.
struct InterruptWhilePlanning {
    done: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl InterruptWhilePlanning {
    /// A thread that sleeps until `cancel` fires (then interrupts every child) or the guard drops.
    fn start(cancel: &CancelToken) -> Self {
        let (done, planned) = tokio::sync::oneshot::channel::<()>();
        let cancel = cancel.clone();
        let thread = std::thread::Builder::new()
            .name("dg-launch-interrupt".into())
            .spawn(move || {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread().build() else {
                    return;
                };
                runtime.block_on(async move {
                    tokio::select! {
                        () = cancel.canceled() => dg_python::process::interrupt_all(),
                        _ = planned => {}
                    }
                });
            })
            .ok();
        Self {
            done: Some(done),
            thread,
        }
    }
}

impl Drop for InterruptWhilePlanning {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            let _ = done.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A project: one agent, whose snapshot resolves the selection and which executes the run.
fn plan_project(
    spec: LocationSpec,
    base: &LaunchSettings,
    load: &LoadSettings,
    printer: Printer,
) -> CliResult<Vec<Planned>> {
    let spinner = printer.spinner(format!("Loading code location `{}`", spec.name));
    let started = start_agent_for(&spec, load);
    spinner.finish_and_clear();
    let (agent, snapshot) = match started {
        Ok(started) => started,
        Err(err) => {
            report_failure(&printer, &err, printer.is_verbose());
            return Err(CliError {
                code: err.exit_code(),
                ..CliError::user_code("the code location did not load; no run was launched")
            });
        }
    };
    let snapshots: Snapshots<'_> = BTreeMap::from([(spec.name.clone(), &snapshot)]);
    let mut targets = targets(base, &snapshots)?;
    let Some((location, target)) = targets.pop() else {
        return Ok(Vec::new());
    };
    Ok(vec![Planned {
        launcher: Launcher::Fresh(Box::new(agent)),
        request: request_for(base, location, target),
    }])
}

/// A workspace root: snapshots of every location (through the cache), then one agent per location
/// that has something to run, started in parallel.
fn plan_workspace(
    specs: Vec<LocationSpec>,
    base: &LaunchSettings,
    load: &LoadSettings,
    printer: Printer,
) -> CliResult<Vec<Planned>> {
    let outcomes = load_locations(specs.clone(), load, printer, |_, _| {});
    let mut snapshots: Snapshots<'_> = BTreeMap::new();
    for outcome in &outcomes {
        match &outcome.result {
            Ok(loaded) => {
                snapshots.insert(outcome.spec.name.clone(), &loaded.snapshot);
            }
            Err(err) => report_failure(&printer, err, printer.is_verbose()),
        }
    }
    if snapshots.is_empty() {
        return Err(CliError::user_code(
            "no code location loaded; no run was launched",
        ));
    }
    let targets = targets(base, &snapshots)?;
    let spinner = printer.spinner("Starting run workers");
    let agents: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = targets
            .iter()
            .map(|(location, _)| {
                let spec = specs.iter().find(|s| &s.name == location).expect("spec");
                scope.spawn(move || start_agent_for(spec, load))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("agent start does not panic"))
            .collect()
    });
    spinner.finish_and_clear();
    let mut planned = Vec::new();
    for ((location, target), agent) in targets.into_iter().zip(agents) {
        let (agent, _) = agent.map_err(|e| load_error(&e))?;
        planned.push(Planned {
            launcher: Launcher::Fresh(Box::new(agent)),
            request: request_for(base, location, target),
        });
    }
    Ok(planned)
}

fn start_agent_for(
    spec: &LocationSpec,
    load: &LoadSettings,
) -> Result<(dg_location::Agent, DefinitionsSnapshot), dg_location::LoadError> {
    let env = PythonEnvironment::resolve(&spec.name, &spec.root, &load.options.env)?;
    start_agent(spec, &env, None, load.options.timeout)
}

/// The snapshots of the loaded locations, by location name.
type Snapshots<'a> = BTreeMap<String, &'a DefinitionsSnapshot>;

/// The target of each run, by location, upstream locations first ([`Workspace::resolve_targets`]).
///
/// A selected asset that several locations define as materializable is ambiguous: which
/// definition runs is the user's choice, so without `--location` this names every location and
/// asks for one (Dagster's workspace would silently take one of them).
fn targets(
    base: &LaunchSettings,
    snapshots: &Snapshots<'_>,
) -> CliResult<Vec<(String, RunTarget)>> {
    let workspace = Workspace::new(snapshots.iter().map(|(n, s)| (n.as_str(), *s)));
    let target = match (&base.job, &base.location) {
        (Some(job), location) => Target::Job {
            name: job.clone(),
            location: location.clone(),
        },
        (None, Some(location)) if !snapshots.contains_key(location) => {
            // An unknown location is reported before the selection is evaluated.
            return Err(resolve_error(ResolveError::UnknownLocation {
                location: location.clone(),
                known: snapshots.keys().cloned().collect(),
            }));
        }
        (None, location) => {
            let exprs = base.selection.as_deref().unwrap_or_default();
            let keys = dg_selection::select_any(&workspace.graph, exprs, SelectOptions::default())
                .map_err(selection_error)?;
            Target::Selection {
                keys,
                text: base.request.selection.clone().unwrap_or_default(),
                location: location.clone(),
            }
        }
    };
    let runs = workspace.resolve_targets(target).map_err(resolve_error)?;
    Ok(runs
        .into_iter()
        .map(|run| (run.location, run.target))
        .collect())
}

/// A target that resolves to no run, with the flag that fixes it.
fn resolve_error(err: ResolveError) -> CliError {
    let message = err.to_string();
    let choose = |owners: &[String]| {
        let choices: Vec<String> = owners.iter().map(|o| format!("`--location {o}`")).collect();
        format!("Choose where it runs with {}.", choices.join(" or "))
    };
    match err {
        ResolveError::UnknownLocation { known, .. } => CliError::usage(message)
            .with_hint(format!("Code locations here: {}.", names(known.iter()))),
        ResolveError::UnknownJob { known, .. } => {
            let list = if known.is_empty() {
                "none".to_owned()
            } else {
                names(known.iter())
            };
            CliError::usage(message).with_hint(format!("Jobs defined here: {list}."))
        }
        ResolveError::JobInSeveralLocations { owners, .. } => {
            CliError::usage(message).with_hint(choose(&owners))
        }
        ResolveError::NothingMaterializable { .. } | ResolveError::NothingInLocation { .. } => {
            CliError::usage(message)
                .with_hint("List the assets with `dg list defs` and check the selection.")
        }
        ResolveError::Ambiguous { keys } => {
            let mut err = CliError::usage(message);
            err.causes = keys[1..]
                .iter()
                .map(|(key, owners)| format!("so is `{key}`: {}", names(owners.iter())))
                .collect();
            err.with_hint(choose(&keys[0].1))
        }
    }
}

/// `` `a`, `b` `` for names.
fn names(items: impl Iterator<Item = impl std::fmt::Display>) -> String {
    items
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn request_for(base: &LaunchSettings, location: String, target: RunTarget) -> RunRequest {
    RunRequest {
        location,
        target,
        ..base.request.clone()
    }
}

/// Executes the planned runs one after another and prints the summary.
fn execute_all(
    context: &Context,
    planned: Vec<Planned>,
    cancel: CancelToken,
    printer: Printer,
) -> CliResult {
    let root = context
        .workspace
        .as_ref()
        .map(|w| w.root.clone())
        .or_else(|| context.root().map(|r| r.to_path_buf()))
        .expect("a project or workspace");
    let home = dg_storage::resolve_home(&root);
    let config = dg_storage::InstanceConfig::load(&home).map_err(CliError::from_diagnostic)?;
    super::warn_legacy_database(printer, &config);
    let runtime = dg_runs::runtime().map_err(CliError::from_diagnostic)?;
    runtime.block_on(async move {
        let storage = dg_storage::open(&config)
            .await
            .map_err(CliError::from_diagnostic)?;
        // Runs whose worker died with an earlier host are failed now rather than left running.
        let _ = storage
            .mark_orphaned_runs_failed(&dg_storage::OrphanPolicy::new(120.0))
            .await;
        let mut ctx = RunContext::new(storage, home.clone());
        ctx.cancel = cancel.clone();
        ctx.cancel_grace = CANCEL_GRACE;
        let total = planned.len();
        let mut outcomes: Vec<(RunOutcome, Duration)> = Vec::new();
        let mut skipped = Vec::new();
        for item in planned {
            let stop = outcomes.iter().any(|(o, _)| !o.success()) || cancel.is_canceled();
            if stop {
                skipped.push(item.request.location.clone());
                continue;
            }
            ctx.observer = Some(observer(printer, item.request.job_name().to_owned()));
            ctx.output = Some(output_observer(printer));
            let started = Instant::now();
            if total > 1 {
                printer.status(format!(
                    "Launching a run in code location `{}`",
                    item.request.location
                ));
            }
            let outcome = execute_run(&ctx, item.launcher, &item.request)
                .await
                .map_err(CliError::from_diagnostic)?;
            outcomes.push((outcome, started.elapsed()));
        }
        summarize(&outcomes, &skipped, &home, printer)
    })
}

fn observer(printer: Printer, job: String) -> EventObserver {
    // The run's failure repeats the failed step's traceback: show it once.
    let step_failed = std::sync::atomic::AtomicBool::new(false);
    Arc::new(move |record: &EventRecord| {
        let failed_step = matches!(record.event.kind, dg_storage::EventKind::StepFailure { .. });
        let is_run_failure = matches!(record.event.kind, dg_storage::EventKind::RunFailure { .. });
        if failed_step {
            step_failed.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let repeat = is_run_failure && step_failed.load(std::sync::atomic::Ordering::Relaxed);
        print_event(printer, event_line(record, &job), repeat)
    })
}

/// Captured output storage did not store as an event (Dagster keeps it in compute-log files):
/// shown as it comes, as stored output is.
fn output_observer(printer: Printer) -> OutputObserver {
    Arc::new(
        move |_run_id: &str, _seq: i64, event: &dg_storage::Event| match &event.kind {
            dg_storage::EventKind::Stdout { text } => printer.out(text.clone()),
            dg_storage::EventKind::Stderr { text } => printer.status(text.clone()),
            _ => {}
        },
    )
}

fn print_event(printer: Printer, line: EventLine, skip_details: bool) {
    match line {
        EventLine::Stdout(text) => printer.out(text),
        EventLine::Stderr(text) => printer.status(text),
        EventLine::Event {
            text,
            error,
            details,
        } => {
            if error {
                let e = styles::ERROR;
                printer.status(format!("{e}{text}{e:#}"));
            } else {
                printer.status(text);
            }
            if skip_details {
                return;
            }
            // Dagster's own frames say little about the user's error; `--verbose` shows them.
            let verbose = printer.is_verbose();
            let hidden = details.iter().filter(|f| is_dagster_frame(f)).count();
            for frame in details.iter().filter(|f| verbose || !is_dagster_frame(f)) {
                printer.status(frame);
            }
            if hidden > 0 && !verbose {
                printer.status(format!(
                    "  ({hidden} frames of dagster hidden; `--verbose` shows them)"
                ));
            }
        }
    }
}

fn is_dagster_frame(frame: &str) -> bool {
    frame.contains("/site-packages/dagster/") || frame.contains("/site-packages/dagster_shared/")
}

fn summarize(
    outcomes: &[(RunOutcome, Duration)],
    skipped: &[String],
    home: &std::path::Path,
    printer: Printer,
) -> CliResult {
    printer.status("");
    for (outcome, elapsed) in outcomes {
        let (style, word) = match outcome.status {
            RunStatus::Success => (styles::SUCCESS, "succeeded"),
            RunStatus::Canceled => (styles::WARNING, "was canceled"),
            _ => (styles::ERROR, "failed"),
        };
        printer.status(format!(
            "{style}Run {} {word}{style:#} in {:.1}s (code location `{}`, {} events)",
            outcome.run_id,
            elapsed.as_secs_f64(),
            outcome.location,
            outcome.events
        ));
        for (step, error) in &outcome.step_failures {
            let class = error.class_name.as_deref().unwrap_or("Error");
            printer.status(format!("  step `{step}`: {class}: {}", error.message));
        }
        if outcome.step_failures.is_empty() {
            if let Some(error) = outcome.error.as_ref().filter(|_| !outcome.success()) {
                printer.status(format!("  {}", error.message));
            }
        }
    }
    for location in skipped {
        printer.status(format!(
            "Not launched in code location `{location}`: an earlier run did not succeed"
        ));
    }
    printer.debug(format!("instance: `{}`", home.display()));
    let failed = outcomes.iter().filter(|(o, _)| !o.success()).count() + skipped.len();
    if failed == 0 {
        return Ok(());
    }
    let canceled = outcomes
        .iter()
        .any(|(o, _)| o.status == RunStatus::Canceled);
    let message = if canceled {
        "the run was canceled"
    } else {
        "materialization failed"
    };
    Err(CliError::user_code(message).with_hint(
        "The error and traceback are shown above; every event of the run is kept in the instance.",
    ))
}
