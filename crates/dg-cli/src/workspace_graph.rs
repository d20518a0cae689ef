//! The checks that span code locations, and selection errors as command errors.
//!
//! The asset graph of all loaded locations is `dg_workspace::Workspace` (dependencies across
//! locations connect by asset key; a real definition wins over another location's stub or spec).
//! Two locations that both define the same key as *executable* are a conflict: Dagster's
//! workspace quietly keeps one of them, we warn naming both ([`executable_conflicts`]); launching
//! such a key asks which location to run in.

use std::collections::BTreeMap;

use dg_location::snapshot::DefinitionsSnapshot;
use dg_selection::SelectionError;

/// An asset key that more than one location defines as executable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The key, as users write it (`raw/orders`).
    pub key: String,
    /// The locations defining it, sorted.
    pub locations: Vec<String>,
}

impl Conflict {
    /// One line naming the key and every location.
    pub fn message(&self) -> String {
        let names: Vec<String> = self.locations.iter().map(|l| format!("`{l}`")).collect();
        format!(
            "asset `{}` is defined as executable in {} code locations: {}",
            self.key,
            self.locations.len(),
            names.join(" and ")
        )
    }

    /// The warning `dg check defs` and `dg list defs` print: the message, then `hint: ...`.
    pub fn warning(&self) -> String {
        format!("{}\nhint: {}", self.message(), self.hint())
    }

    /// What to do about it.
    pub fn hint(&self) -> String {
        format!(
            "`dg launch` of `{}` needs `--location`. To make it unambiguous, keep its definition \
             in one location; in the others, depend on it by key (`deps=[\"{}\"]`) or declare it \
             with `dg.AssetSpec`, which is not executable.",
            self.key, self.key
        )
    }
}

/// Keys defined as executable (materializable or observable, not a stub) in more than one location.
pub fn executable_conflicts<'a>(
    locations: impl IntoIterator<Item = (&'a str, &'a DefinitionsSnapshot)>,
) -> Vec<Conflict> {
    let mut by_key: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, snapshot) in locations {
        for asset in &snapshot.assets {
            if asset.is_executable && !asset.is_auto_created_stub {
                let owners = by_key.entry(asset.key_string()).or_default();
                if !owners.iter().any(|o| o == name) {
                    owners.push(name.to_string());
                }
            }
        }
    }
    by_key
        .into_iter()
        .filter(|(_, locations)| locations.len() > 1)
        .map(|(key, mut locations)| {
            locations.sort();
            Conflict { key, locations }
        })
        .collect()
}

/// A selection error as a command error (exit 2), with the caret snippet for syntax errors.
pub fn selection_error(err: SelectionError) -> crate::error::CliError {
    // A syntax error's text already ends with the selection and a caret under the column.
    let mut cli = crate::error::CliError::usage(format!("Invalid `--assets` selection: {err}"));
    cli.hint = err.hint();
    cli.code = err.exit_code();
    cli
}
