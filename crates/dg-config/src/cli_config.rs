//! The `[cli]` table: settings of the tool itself, which may appear in the user file, a workspace
//! file and a standalone project's file. Each layer is partial (every field optional) so that
//! layers can be merged with [`CliConfig::merge`]; the precedence lives in `dg-cli`'s settings.

use std::fmt;
use std::str::FromStr;

use crate::error::Location;

/// A partial `[cli]` table: `None` means "not set at this layer".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CliConfig {
    /// `verbose`: print debug output.
    pub verbose: Option<bool>,
    /// `use_component_modules`: only use components from these modules.
    pub use_component_modules: Option<Vec<String>>,
    /// `suppress_warnings`: warnings not to print.
    pub suppress_warnings: Option<Vec<WarningId>>,
    /// `telemetry.enabled`.
    pub telemetry_enabled: Option<bool>,
}

impl CliConfig {
    /// This layer with every key that `later` sets replaced by `later`'s value.
    #[must_use]
    pub fn merge(self, later: CliConfig) -> CliConfig {
        CliConfig {
            verbose: later.verbose.or(self.verbose),
            use_component_modules: later.use_component_modules.or(self.use_component_modules),
            suppress_warnings: later.suppress_warnings.or(self.suppress_warnings),
            telemetry_enabled: later.telemetry_enabled.or(self.telemetry_enabled),
        }
    }

    /// Whether no key is set.
    pub fn is_empty(&self) -> bool {
        *self == CliConfig::default()
    }
}

/// The names of warnings that `cli.suppress_warnings` accepts (the same names as Dagster's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WarningId {
    /// A `[cli]` table in a project that is inside a workspace (it is ignored).
    CliConfigInWorkspaceProject,
    /// A user file at the old location `~/.dg.toml`.
    DeprecatedUserConfigLocation,
    /// `project.python_environment` (or another deprecated project key) is set.
    DeprecatedPythonEnvironment,
    /// An old entry-point group for component libraries.
    DeprecatedDagsterDgLibraryEntryPoint,
    /// A registry module missing from the manifest.
    MissingDgPluginModuleInManifest,
    /// The activated virtual environment is not the project's.
    ProjectAndActivatedVenvMismatch,
    /// A newer `create-dagster` is available.
    CreateDagsterOutdated,
}

impl WarningId {
    /// Every warning name, in the order of Dagster's list.
    pub const ALL: [WarningId; 7] = [
        WarningId::CliConfigInWorkspaceProject,
        WarningId::DeprecatedUserConfigLocation,
        WarningId::DeprecatedPythonEnvironment,
        WarningId::DeprecatedDagsterDgLibraryEntryPoint,
        WarningId::MissingDgPluginModuleInManifest,
        WarningId::ProjectAndActivatedVenvMismatch,
        WarningId::CreateDagsterOutdated,
    ];

    /// The name as written in `suppress_warnings`.
    pub fn as_str(self) -> &'static str {
        match self {
            WarningId::CliConfigInWorkspaceProject => "cli_config_in_workspace_project",
            WarningId::DeprecatedUserConfigLocation => "deprecated_user_config_location",
            WarningId::DeprecatedPythonEnvironment => "deprecated_python_environment",
            WarningId::DeprecatedDagsterDgLibraryEntryPoint => {
                "deprecated_dagster_dg_library_entry_point"
            }
            WarningId::MissingDgPluginModuleInManifest => "missing_dg_plugin_module_in_manifest",
            WarningId::ProjectAndActivatedVenvMismatch => "project_and_activated_venv_mismatch",
            WarningId::CreateDagsterOutdated => "create_dagster_outdated",
        }
    }
}

impl FromStr for WarningId {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WarningId::ALL
            .into_iter()
            .find(|w| w.as_str() == s)
            .ok_or(())
    }
}

impl fmt::Display for WarningId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something worth telling the user about a config file that does not stop the command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    /// The name that suppresses it in `cli.suppress_warnings`.
    pub id: WarningId,
    /// What is wrong and what to do.
    pub message: String,
    /// Where, when it concerns a key in a file.
    pub location: Option<Location>,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (suppress with `suppress_warnings = [\"{}\"]` in `[cli]`)",
            self.message, self.id
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_layers_win_per_key() {
        let user = CliConfig {
            verbose: Some(true),
            telemetry_enabled: Some(false),
            ..CliConfig::default()
        };
        let file = CliConfig {
            verbose: Some(false),
            suppress_warnings: Some(vec![WarningId::CreateDagsterOutdated]),
            ..CliConfig::default()
        };
        let merged = user.merge(file);
        assert_eq!(merged.verbose, Some(false));
        assert_eq!(merged.telemetry_enabled, Some(false));
        assert_eq!(
            merged.suppress_warnings,
            Some(vec![WarningId::CreateDagsterOutdated])
        );
        assert!(!merged.is_empty());
        assert!(CliConfig::default().is_empty());
    }

    #[test]
    fn warning_names_round_trip() {
        for id in WarningId::ALL {
            assert_eq!(id.as_str().parse::<WarningId>(), Ok(id));
        }
        assert!("nope".parse::<WarningId>().is_err());
    }
}
