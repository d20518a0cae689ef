//! The settings of every `dg` command, resolved in one place: the global ones here, each command's
//! own in a submodule (flags, environment variables and config files in, one struct out).
//!
//! Precedence of the global settings, later wins per key: built-in defaults, then the user file
//! (`$DG_CLI_CONFIG`, else `$XDG_CONFIG_HOME/dg.toml`, else `~/.config/dg.toml`), then the `[cli]`
//! table of the workspace file (or of a standalone project's file; a project inside a workspace
//! does not count), then the flags the user actually typed. [`Session::resolve`] does this once per
//! process and builds the one [`Printer`]; commands that work on a project or workspace then call
//! [`Session::load`].

pub mod check_defs;
pub mod dev;
pub mod launch;
pub mod list_defs;
pub mod load;

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
            &self.suppress_warnings,
        )
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

/// Which config files the global settings are resolved from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sources {
    /// The user file and the file that governs the discovered context (every command but one).
    UserAndContext,
    /// The user file alone: `dg check toml` reports broken files, so its own settings must not
    /// depend on them.
    UserOnly,
}

/// What every `dg` command starts from: the resolved global settings, the one printer they ask
/// for, and the discovered context (or why discovery failed, reported by [`Session::load`]).
#[derive(Debug)]
pub struct Session {
    /// The resolved settings.
    pub settings: GlobalSettings,
    /// The printer, configured by `settings`; the only one the process builds.
    pub printer: Printer,
    user_warnings: Vec<ConfigWarning>,
    context: Option<CliResult<Context>>,
}

impl Session {
    /// Reads the user file, discovers the context from `--target-path` (or the current directory)
    /// unless `sources` says not to, and resolves the settings and the printer.
    pub fn resolve(args: &GlobalArgs, sources: Sources) -> CliResult<Self> {
        let user = dg_config::load_user_config().map_err(CliError::from_diagnostic)?;
        let mut settings = GlobalSettings::resolve(args, &[&user.cli])?;
        let context = match sources {
            Sources::UserOnly => None,
            Sources::UserAndContext => {
                Some(dg_config::discover(&settings.target_path).map_err(CliError::from_diagnostic))
            }
        };
        if let Some(Ok(context)) = &context {
            settings = GlobalSettings::resolve(args, &[&user.cli, &file_cli(context)])?;
        }
        Ok(Self {
            printer: settings.printer(),
            settings,
            user_warnings: user.warnings,
            context,
        })
    }

    /// The discovered context for a command that works on a project or workspace: fails when
    /// discovery failed, prints the warnings that are not suppressed, and checks that the context
    /// has what the command `needs` (`None`: nothing).
    pub fn load(self, needs: Option<Needs>) -> CliResult<Loaded> {
        let context = match self.context {
            Some(context) => context?,
            None => dg_config::discover(&self.settings.target_path)
                .map_err(CliError::from_diagnostic)?,
        };
        // Dagster cannot suppress the old-location warning (it is found before config is read); we can.
        for warning in self.user_warnings.iter().chain(&context.warnings) {
            self.printer.config_warning(warning);
        }
        if let Some(needs) = needs {
            context.require(needs).map_err(CliError::from_diagnostic)?;
        }
        Ok(Loaded {
            settings: self.settings,
            context,
            printer: self.printer,
        })
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
