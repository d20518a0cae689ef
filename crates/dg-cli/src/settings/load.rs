//! How commands that import user code load code locations (`dg list defs`, `dg check defs`,
//! `dg launch`): `--no-cache`, `--no-sync`, `--use-active-venv` and `--timeout` (plus
//! `DG_LOCATION_LOAD_TIMEOUT`) turned into `dg_location::LoadOptions`.

use std::sync::Arc;
use std::time::Duration;

use dg_location::{CacheMode, LoadOptions};
use dg_python::EnvOptions;

use crate::args::LoadArgs;
use crate::printer::Printer;

/// How locations are loaded, resolved from the flags (the one place that precedence lives).
#[derive(Clone)]
pub struct LoadSettings {
    /// What `dg_location` is given.
    pub options: LoadOptions,
}

impl LoadSettings {
    /// Flags win over `DG_LOCATION_LOAD_TIMEOUT`, which wins over the 180 s default. User code's
    /// output while loading is shown as debug lines (`--verbose`) through `printer`.
    pub fn resolve(args: &LoadArgs, printer: Printer) -> Self {
        let mut options = LoadOptions {
            env: EnvOptions {
                use_active_venv: args.use_active_venv,
                no_sync: args.no_sync,
                ..EnvOptions::default()
            },
            cache_mode: if args.no_cache {
                CacheMode::Refresh
            } else {
                CacheMode::Use
            },
            ..LoadOptions::default()
        };
        if let Some(seconds) = args.timeout {
            options.timeout = Duration::from_secs(seconds);
        }
        if printer.is_verbose() {
            options.log_sink = Some(Arc::new(move |location: &str, _stream, line: &str| {
                printer.debug(format!("[{location}] {line}"));
            }));
        }
        Self { options }
    }
}
