//! Global settings of every `dg` command, resolved in one place.
//!
//! Precedence, later wins per key: built-in defaults, then the user file (`$DG_CLI_CONFIG`, else
//! `$XDG_CONFIG_HOME/dg.toml`, else `~/.config/dg.toml`), then the `[cli]` table of the workspace
//! file (or of a standalone project's file; a project inside a workspace does not count), then the
//! flags the user actually typed. Commands call [`load`] (or [`GlobalSettings::resolve`] when they
//! cannot require valid config files, like `dg check toml`) and print through the returned printer.

use std::path::PathBuf;

use dg_config::{CliConfig, ConfigWarning, Context, Needs, WarningId};

use crate::args::GlobalArgs;
use crate::error::{CliError, CliResult};
use crate::printer::{Printer, Verbosity};

/// Settings shared by every command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalSettings {
    /// Where discovery starts: `--target-path`, else the current directory (absolute).
    pub target_path: PathBuf,
    /// `--verbose` / `cli.verbose`.
    pub verbose: bool,
    /// `cli.suppress_warnings`: warnings that are not printed.
    pub suppress_warnings: Vec<WarningId>,
    /// `cli.telemetry.enabled` (dg sends no telemetry; kept so the key round-trips).
    pub telemetry_enabled: bool,
    /// `cli.use_component_modules`: only list components from these modules.
    pub use_component_modules: Vec<String>,
}

impl GlobalSettings {
    /// Resolves the settings from the typed flags and the config layers (lowest first).
    pub fn resolve(args: &GlobalArgs, layers: &[&CliConfig]) -> CliResult<Self> {
        let merged = layers.iter().fold(CliConfig::default(), |acc, layer| {
            acc.merge((*layer).clone())
        });
        let target_path =
            match &args.target_path {
                Some(path) if !path.exists() => return Err(CliError::usage(format!(
                    "`--target-path` `{}` does not exist",
                    path.display()
                ))
                .with_hint(
                    "Pass a folder that exists (a project, a workspace, or a folder below one).",
                )),
                Some(path) => std::path::absolute(path).map_err(|e| {
                    CliError::usage(format!("Invalid `--target-path` `{}`: {e}", path.display()))
                })?,
                None => std::env::current_dir().map_err(|e| {
                    CliError::usage(format!("Cannot read the current directory: {e}"))
                        .with_hint("Run dg from a folder that exists, or pass `--target-path`.")
                })?,
            };
        Ok(Self {
            target_path,
            // A flag can only switch verbosity on, so "typed" means `true`.
            verbose: args.verbose || merged.verbose.unwrap_or(false),
            suppress_warnings: merged.suppress_warnings.unwrap_or_default(),
            telemetry_enabled: merged.telemetry_enabled.unwrap_or(true),
            use_component_modules: merged.use_component_modules.unwrap_or_default(),
        })
    }

    /// The printer these settings ask for.
    pub fn printer(&self) -> Printer {
        Printer::new(
            if self.verbose {
                Verbosity::Verbose
            } else {
                Verbosity::Normal
            },
            false,
        )
    }

    /// Prints each warning unless its name is in `suppress_warnings`.
    pub fn warn_all<'a>(
        &self,
        printer: &Printer,
        warnings: impl IntoIterator<Item = &'a ConfigWarning>,
    ) {
        for warning in warnings {
            if !self.suppress_warnings.contains(&warning.id) {
                printer.warn(warning);
            }
        }
    }
}

/// The `[cli]` table of the config file that governs the context: the workspace's when there is
/// one (a project inside a workspace never contributes), else the standalone project's.
pub fn file_cli(context: &Context) -> CliConfig {
    match (&context.workspace, &context.project) {
        (Some(workspace), _) => workspace.cli.clone(),
        (None, Some(project)) => project.cli.clone(),
        (None, None) => CliConfig::default(),
    }
}

/// Everything a command that works on a project or workspace starts from.
#[derive(Debug)]
pub struct Loaded {
    /// The resolved settings.
    pub settings: GlobalSettings,
    /// The discovered project and workspace.
    pub context: Context,
    /// The printer, configured by `settings`.
    pub printer: Printer,
}

/// Reads the user file, discovers the context from `--target-path` (or the current directory),
/// resolves the settings, prints the warnings that are not suppressed, and checks that the
/// context has what the command `needs` (`None`: nothing).
pub fn load(args: &GlobalArgs, needs: Option<Needs>) -> CliResult<Loaded> {
    let user = dg_config::load_user_config().map_err(CliError::from_diagnostic)?;
    let provisional = GlobalSettings::resolve(args, &[&user.cli])?;
    let context =
        dg_config::discover(&provisional.target_path).map_err(CliError::from_diagnostic)?;
    let settings = GlobalSettings::resolve(args, &[&user.cli, &file_cli(&context)])?;
    let printer = settings.printer();
    // Dagster cannot suppress the old-location warning (it is found before config is read); we can.
    settings.warn_all(&printer, &user.warnings);
    settings.warn_all(&printer, &context.warnings);
    if let Some(needs) = needs {
        context.require(needs).map_err(CliError::from_diagnostic)?;
    }
    Ok(Loaded {
        settings,
        context,
        printer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parsed like the real command line, so new global flags do not break these tests.
    fn args(verbose: bool) -> GlobalArgs {
        use clap::Parser;
        let mut argv = vec!["dg", "--target-path", "/"];
        if verbose {
            argv.push("--verbose");
        }
        argv.extend(["list", "projects"]);
        crate::args::DgCli::try_parse_from(argv).unwrap().global
    }

    #[test]
    fn defaults_without_config() {
        let s = GlobalSettings::resolve(&args(false), &[]).unwrap();
        assert!(!s.verbose);
        assert!(s.telemetry_enabled);
        assert!(s.suppress_warnings.is_empty());
        assert_eq!(s.target_path, PathBuf::from("/"));
    }

    #[test]
    fn file_beats_user_and_typed_flag_beats_both() {
        let user = CliConfig {
            verbose: Some(true),
            telemetry_enabled: Some(false),
            suppress_warnings: Some(vec![WarningId::CreateDagsterOutdated]),
            ..CliConfig::default()
        };
        let file = CliConfig {
            verbose: Some(false),
            suppress_warnings: Some(vec![WarningId::DeprecatedPythonEnvironment]),
            ..CliConfig::default()
        };
        let s = GlobalSettings::resolve(&args(false), &[&user, &file]).unwrap();
        assert!(!s.verbose, "the workspace file wins over the user file");
        assert!(
            !s.telemetry_enabled,
            "keys the file does not set keep the user value"
        );
        assert_eq!(
            s.suppress_warnings,
            vec![WarningId::DeprecatedPythonEnvironment]
        );
        let s = GlobalSettings::resolve(&args(true), &[&user, &file]).unwrap();
        assert!(s.verbose, "a typed --verbose wins");
    }
}
