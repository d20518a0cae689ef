//! Where the instance lives: `$DAGSTER_HOME` when set (and not empty), else `.dagster/` in the
//! workspace (or standalone project) root. Unlike Dagster, the default home persists across runs.

use std::path::{Path, PathBuf};

use dg_config::env::DAGSTER_HOME;

/// Name of the default instance folder inside a workspace or project root.
pub const DEFAULT_HOME_DIR: &str = ".dagster";

/// The instance home for a workspace or project `root`, reading `$DAGSTER_HOME` from the process
/// environment. A relative `$DAGSTER_HOME` is taken relative to the current directory, as Dagster does.
pub fn resolve_home(root: &Path) -> PathBuf {
    resolve_home_with(root, std::env::var_os(DAGSTER_HOME).map(PathBuf::from))
}

/// [`resolve_home`] with the value of `$DAGSTER_HOME` given explicitly (for callers that resolve
/// settings in one place, and for tests).
pub fn resolve_home_with(root: &Path, dagster_home: Option<PathBuf>) -> PathBuf {
    match dagster_home {
        Some(home) if !home.as_os_str().is_empty() => {
            if home.is_absolute() {
                home
            } else {
                std::env::current_dir()
                    .map(|cwd| cwd.join(&home))
                    .unwrap_or(home)
            }
        }
        _ => root.join(DEFAULT_HOME_DIR),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_dot_dagster_in_root() {
        assert_eq!(
            resolve_home_with(Path::new("/w"), None),
            PathBuf::from("/w/.dagster")
        );
        assert_eq!(
            resolve_home_with(Path::new("/w"), Some(PathBuf::new())),
            PathBuf::from("/w/.dagster")
        );
    }

    #[test]
    fn dagster_home_wins() {
        assert_eq!(
            resolve_home_with(Path::new("/w"), Some("/srv/dh".into())),
            PathBuf::from("/srv/dh")
        );
    }
}
