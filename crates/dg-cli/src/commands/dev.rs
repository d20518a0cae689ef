//! `dg dev`: one native host serving every code location of the workspace (or the one project):
//! the web UI, the JSON API, live streams, hot reload and runs, on `--host`/`--port`
//! (default `127.0.0.1:3000`).
//!
//! Lifecycle: the address is printed as soon as the server listens (locations keep loading in the
//! background and are reported as each finishes). Runs left running by an earlier host are marked
//! failed at start, and runs that lose their worker later by a periodic check.
//!
//! Ctrl-C or SIGTERM, at any moment (the handlers are installed before the first child exists):
//! stops accepting connections, ends the live streams, cancels the runs this host executes
//! (waiting for them to record their end), stops every agent, loaded or still importing, then ends
//! every child process still tracked (a `uv sync`, a fresh agent, a run worker; see
//! `dg_python::process::end_all`), and exits 0, as `dagster dev` does once it serves. A second
//! Ctrl-C while stopping kills every child at once and exits 1.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use dg_config::Needs;
use dg_host::locations::Spec as LocationSpec;
use dg_host::locations::{watch, HostEvent, LocationStatus};
use dg_server::{AppState, Host};
use dg_storage::LogLevel;

use crate::args::DevArgs;
use crate::error::{CliError, CliResult};
use crate::locations;
use crate::printer::Printer;
use crate::settings::dev::DevSettings;
use crate::settings::Session;

/// How long runs get to record their end after Ctrl-C.
const RUN_SHUTDOWN_GRACE: Duration = Duration::from_secs(15);
/// How long children still running once the host has stopped get between `SIGTERM` and `SIGKILL`.
const CHILD_GRACE: Duration = Duration::from_secs(3);
/// How long in-flight requests get to finish once the host has stopped.
const REQUEST_GRACE: Duration = Duration::from_secs(5);
/// How often runs are checked for a lost worker.
const MONITOR_EVERY: Duration = Duration::from_secs(30);
/// Quiet time after the last file change before a location reloads.
const RELOAD_DEBOUNCE: Duration = Duration::from_millis(400);

/// Runs `dg dev`.
pub fn run(session: Session, args: &DevArgs) -> CliResult {
    let loaded = session.load(Some(Needs::ProjectOrWorkspace))?;
    let printer = loaded.printer;
    let context = loaded.context;
    let (specs, broken) = locations::context_locations(&context);
    // One broken project config does not stop the others from being served.
    for project in broken {
        printer.error(&CliError::from_diagnostic(project.error));
    }
    if specs.is_empty() {
        return Err(CliError::usage("no project to serve").with_hint(
            "Add a project with `create-dagster project projects/<name>` or fix the errors above.",
        ));
    }
    let settings = DevSettings::resolve(args, &context)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::usage(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(serve(specs, settings, printer))
}

/// Serves until Ctrl-C or SIGTERM, then stops everything (see the module header).
async fn serve(specs: Vec<LocationSpec>, setup: DevSettings, printer: Printer) -> CliResult {
    // Ours before any child exists: a Ctrl-C during the first `uv sync` must reach our shutdown.
    let mut signals = Signals::install()
        .map_err(|e| CliError::usage(format!("cannot handle Ctrl-C and SIGTERM: {e}")))?;
    super::warn_legacy_database(printer, &setup.config);
    let storage = dg_storage::open(&setup.config)
        .await
        .map_err(CliError::from_diagnostic)?;
    let addr = format!("{}:{}", setup.host, setup.port);
    let listener = tokio::net::TcpListener::bind(&addr).await.map_err(|e| {
        CliError::usage(format!("cannot listen on `{addr}`: {e}")).with_hint(
            "Another program may use this port: pass another one with `--port`, or stop it.",
        )
    })?;
    let local: SocketAddr = listener
        .local_addr()
        .map_err(|e| CliError::usage(format!("cannot read the listening address: {e}")))?;

    let host = Host::new(specs, setup.options);
    let started = Instant::now();
    report_progress(&host, printer, setup.level, started);
    host.load_all();
    let watcher = match watch::watch(&host, RELOAD_DEBOUNCE) {
        Ok(w) => Some(w),
        Err(e) => {
            printer.warn(format!(
                "file watching is off ({e}); reload locations from the UI"
            ));
            None
        }
    };
    let state = AppState::new(host.clone(), storage, setup.home.clone())
        .with_allowed_hosts(setup.allowed_hosts);
    let monitor = state.runs.monitor_orphans(&host, MONITOR_EVERY);
    let shown = match local {
        SocketAddr::V6(v6) => format!("[{}]:{}", v6.ip(), v6.port()),
        SocketAddr::V4(v4) => v4.to_string(),
    };
    printer.status(format!(
        "Serving dg on http://{shown} in process {}",
        std::process::id()
    ));
    printer.debug(format!("instance: `{}`", setup.home.display()));

    let (stop_server, server_stops) = tokio::sync::oneshot::channel::<()>();
    let mut server = tokio::spawn(dg_server::serve(listener, state.clone(), async move {
        let _ = server_stops.await;
    }));
    let ended = tokio::select! {
        name = signals.next() => {
            printer.status(format!("Received {name}: stopping runs and code locations"));
            None
        }
        ended = &mut server => Some(ended),
    };
    let _ = stop_server.send(());
    drop(watcher);
    monitor.abort();
    let stopping = stop_everything(&state, &host);
    tokio::pin!(stopping);
    tokio::select! {
        () = &mut stopping => {}
        name = signals.next() => {
            printer.warn(format!("Received {name} again: killing every child process now"));
            dg_python::process::kill_all();
            return Err(CliError::user_code("interrupted while stopping"));
        }
    }
    let ended = match ended {
        Some(ended) => Some(ended),
        None => tokio::time::timeout(REQUEST_GRACE, &mut server).await.ok(),
    };
    server.abort();
    printer.status("Stopped.");
    match ended {
        Some(Ok(Err(e))) => Err(CliError::usage(format!("the server failed: {e}"))),
        _ => Ok(()),
    }
}

/// Cancels the runs (they record their end), stops every agent and load, then ends whatever
/// child is left.
async fn stop_everything(state: &AppState, host: &Host) {
    state.runs.shutdown(RUN_SHUTDOWN_GRACE).await;
    let host = host.clone();
    let _ = tokio::task::spawn_blocking(move || {
        host.shutdown();
        dg_python::process::end_all(CHILD_GRACE);
    })
    .await;
}

/// Prints each location as it finishes loading (and reloading), and once all are in.
fn report_progress(host: &Host, printer: Printer, level: LogLevel, started: Instant) {
    let mut events = host.subscribe();
    let host = host.clone();
    tokio::spawn(async move {
        let mut announced = false;
        loop {
            let event = match events.recv().await {
                Ok(e) => e,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return,
            };
            let HostEvent::Location {
                name,
                status,
                generation,
            } = event
            else {
                continue;
            };
            let Some(info) = host.location(&name) else {
                continue;
            };
            let verb = if generation > 1 { "Reloaded" } else { "Loaded" };
            match status {
                LocationStatus::Loaded if level > LogLevel::Info => {}
                LocationStatus::Loaded => printer.status(format!(
                    "{verb} code location `{name}` in {:.1} s",
                    info.load_seconds.unwrap_or_default()
                )),
                LocationStatus::Failed => {
                    let error = info
                        .error
                        .unwrap_or_else(|| dg_host::locations::LocationError {
                            message: "unknown error".into(),
                            traceback: None,
                            hint: None,
                        });
                    let mut err =
                        CliError::user_code(format!("code location `{name}` failed to load"));
                    err.causes.push(error.message);
                    err.hint = error.hint;
                    printer.error(&err);
                    if let Some(tb) = error.traceback.filter(|_| level == LogLevel::Debug) {
                        printer.status(tb);
                    }
                }
                LocationStatus::Loading => continue,
            }
            if !announced && host.all_settled() {
                announced = true;
                let locations = host.locations();
                let failed = locations
                    .iter()
                    .filter(|l| l.status == LocationStatus::Failed)
                    .count();
                printer.status(format!(
                    "All {} code locations ready in {:.1} s ({failed} failed)",
                    locations.len(),
                    started.elapsed().as_secs_f64()
                ));
            }
        }
    });
}

/// Ctrl-C (`SIGINT`) and `SIGTERM`, handled by us from [`Signals::install`] on.
struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

impl Signals {
    /// Installs the handlers (needs the runtime).
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Self {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
        })
    }

    /// The name of the next signal received.
    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }
}
