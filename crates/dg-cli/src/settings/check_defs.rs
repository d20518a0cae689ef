//! Settings of `dg check defs`: which messages to print and in which format, whether the result is
//! printed as JSON, and how locations load.

use dg_storage::LogLevel;

use crate::args::{CheckDefsArgs, LogFormat};
use crate::printer::Printer;
use crate::settings::load::LoadSettings;

/// How `dg check defs` checks and reports.
pub struct CheckDefsSettings {
    /// `--log-level`.
    pub level: LogLevel,
    /// `--log-format`.
    pub format: LogFormat,
    /// `--json`: the result of every location on stdout.
    pub json: bool,
    /// `--check-yaml` (refused from a workspace root, like Dagster).
    pub check_yaml: bool,
    /// How locations load.
    pub load: LoadSettings,
}

impl CheckDefsSettings {
    /// Resolves the flags.
    pub fn resolve(args: &CheckDefsArgs, printer: Printer) -> Self {
        Self {
            level: args.log_level,
            format: args.log_format,
            json: args.json,
            check_yaml: args.check_yaml,
            load: LoadSettings::resolve(&args.load, printer),
        }
    }
}
