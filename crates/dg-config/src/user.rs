//! The user file: `$DG_CLI_CONFIG`, else `$XDG_CONFIG_HOME/dg.toml`, else `~/.config/dg.toml`.
//! Only its `[cli]` table is read; other tables (such as Dagster+ settings) are left alone.

use std::path::PathBuf;

use crate::cli_config::{CliConfig, ConfigWarning, WarningId};
use crate::error::ConfigError;
use crate::file::load_user_file;
use dg_core::env;

/// The user file as read: its path, its `[cli]` table, and warnings about it.
#[derive(Debug, Clone, Default)]
pub struct UserConfig {
    /// The file, when one exists.
    pub file: Option<PathBuf>,
    /// Its `[cli]` table (empty when there is no file).
    pub cli: CliConfig,
    /// For example: a file at the old location `~/.dg.toml`, which is not read any more.
    pub warnings: Vec<ConfigWarning>,
}

/// Where the user file is, whether or not it exists. `None` when no home folder is known.
pub fn user_config_path() -> Option<PathBuf> {
    if let Some(path) = non_empty_var(env::DG_CLI_CONFIG) {
        return Some(PathBuf::from(path));
    }
    if let Some(config_home) = non_empty_var(env::XDG_CONFIG_HOME) {
        return Some(PathBuf::from(config_home).join("dg.toml"));
    }
    home().map(|h| h.join(".config").join("dg.toml"))
}

/// Reads the user file if it exists.
pub fn load_user_config() -> Result<UserConfig, ConfigError> {
    let mut config = UserConfig::default();
    if let Some(old) = home().map(|h| h.join(".dg.toml")) {
        if old.is_file() {
            let new = user_config_path().map_or_else(
                || "~/.config/dg.toml".to_string(),
                |p| p.display().to_string(),
            );
            config.warnings.push(ConfigWarning {
                id: WarningId::DeprecatedUserConfigLocation,
                message: format!("`{}` is no longer read; move it to `{new}`.", old.display()),
                location: None,
            });
        }
    }
    if let Some(path) = user_config_path().filter(|p| p.is_file()) {
        config.cli = load_user_file(&path)?;
        config.file = Some(path);
    }
    Ok(config)
}

fn home() -> Option<PathBuf> {
    non_empty_var(env::HOME).map(PathBuf::from)
}

fn non_empty_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}
