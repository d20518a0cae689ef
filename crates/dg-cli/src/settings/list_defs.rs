//! Settings of `dg list defs`: the output (`--json`, or a table of `--columns`), the asset
//! selection, `--path` (which loads part of a location, so never from or into the cache) and how
//! locations load.

use std::path::PathBuf;

use dg_location::CacheMode;

use crate::args::ListDefsArgs;
use crate::defs_table::{self, Column};
use crate::error::{CliError, CliResult};
use crate::printer::Printer;
use crate::settings::load::LoadSettings;
use crate::workspace_graph::selection_error;

/// What `dg list defs` lists and how.
pub struct ListDefsSettings {
    /// `--json`.
    pub json: bool,
    /// The table's columns (`key` first).
    pub columns: Vec<Column>,
    /// `--assets`, parsed.
    pub selection: Option<dg_selection::Expr>,
    /// `--path`: only definitions from source files under it.
    pub path: Option<PathBuf>,
    /// How locations load.
    pub load: LoadSettings,
}

impl ListDefsSettings {
    /// Checks the flags against each other, then parses the columns and the selection.
    pub fn resolve(args: &ListDefsArgs, printer: Printer) -> CliResult<Self> {
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
        let mut load = LoadSettings::resolve(&args.load, printer);
        if args.path.is_some() {
            // A part of a location is not the location: keep it out of the location's cache entry.
            load.options.cache_mode = CacheMode::Off;
        }
        Ok(Self {
            json: args.json,
            columns,
            selection,
            path: args.path.clone(),
            load,
        })
    }
}
