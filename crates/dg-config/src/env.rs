//! Every environment variable dg reads or sets, named once, with what it means.

/// Path of the user config file (overrides `$XDG_CONFIG_HOME/dg.toml` / `~/.config/dg.toml`).
pub const DG_CLI_CONFIG: &str = "DG_CLI_CONFIG";
/// Base folder for user config files (XDG Base Directory spec).
pub const XDG_CONFIG_HOME: &str = "XDG_CONFIG_HOME";
/// The user's home folder.
pub const HOME: &str = "HOME";
/// Disables colour in terminal output when set to any non-empty value (<https://no-color.org>).
pub const NO_COLOR: &str = "NO_COLOR";
