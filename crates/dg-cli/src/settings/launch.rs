//! Settings of `dg launch`: the run config (`--config` files merged, or `--config-json`), the
//! partition or partition range, the target (`--assets` parsed as a selection, or `--job`), the
//! location to run in, and how locations load.

use dg_runs::{RunRequest, RunTarget};

use crate::args::LaunchArgs;
use crate::error::{CliError, CliResult};
use crate::printer::Printer;
use crate::settings::load::LoadSettings;
use crate::workspace_graph::selection_error;

/// What every run of this launch shares.
pub struct LaunchSettings {
    /// The request each planned run starts from (its target and location are filled in per run).
    pub request: RunRequest,
    /// `--job`.
    pub job: Option<String>,
    /// `--location`: run only there.
    pub location: Option<String>,
    /// `--assets`, parsed.
    pub selection: Option<Vec<dg_selection::Expr>>,
    /// How locations load.
    pub load: LoadSettings,
}

impl LaunchSettings {
    /// Reads the run config files and checks the partition range and the selection, in that order.
    pub fn resolve(args: &LaunchArgs, printer: Printer) -> CliResult<Self> {
        let run_config = dg_runs::load_run_config(&args.config, args.config_json.as_deref())
            .map_err(CliError::from_diagnostic)?;
        let partition_range = args
            .partition_range
            .as_deref()
            .map(parse_range)
            .transpose()?;
        let selection = args
            .assets
            .as_deref()
            .map(dg_selection::parse_comma_separated)
            .transpose()
            .map_err(selection_error)?;
        Ok(Self {
            request: RunRequest {
                partition: args.partition.clone(),
                partition_range,
                run_config,
                selection: args.assets.clone(),
                ..RunRequest::new("", RunTarget::Job(String::new()))
            },
            job: args.job.clone(),
            location: args.location.clone(),
            selection,
            load: LoadSettings::resolve(&args.load, printer),
        })
    }
}

/// `--partition-range <start>...<end>`.
fn parse_range(text: &str) -> CliResult<(String, String)> {
    match text.split("...").collect::<Vec<_>>()[..] {
        [start, end] if !start.is_empty() && !end.is_empty() => {
            Ok((start.to_owned(), end.to_owned()))
        }
        _ => Err(CliError::usage(format!(
            "invalid partition range `{text}`: expected `<start>...<end>`"
        ))
        .with_hint(
            "Name the first and last partition keys: `--partition-range 2024-01-01...2024-01-31`.",
        )),
    }
}
