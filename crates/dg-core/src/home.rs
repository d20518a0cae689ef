//! Where the instance lives: `$DAGSTER_HOME` when set (and not empty), else `.dagster/` in the
//! workspace (or standalone project) root. Unlike Dagster, the default home persists across runs.
//!
//! Both the storage (which opens the instance) and the snapshot cache (which must not hash the
//! instance's files into a project's content hash) read `$DAGSTER_HOME` through this module, so
//! they agree on what it means.

use std::path::{Path, PathBuf};

use crate::env::DAGSTER_HOME;

/// Name of the default instance folder inside a workspace or project root.
pub const DEFAULT_HOME_DIR: &str = ".dagster";

/// The instance home for a workspace or project `root`, reading `$DAGSTER_HOME` from the process
/// environment. A relative `$DAGSTER_HOME` is taken relative to the current directory, as Dagster does.
pub fn resolve_home(root: &Path) -> PathBuf {
    resolve_home_with(root, std::env::var_os(DAGSTER_HOME).map(PathBuf::from))
}

/// The instance home `$DAGSTER_HOME` names, made absolute against the current directory; `None`
/// when it is unset or empty.
pub fn dagster_home_from_env() -> Option<PathBuf> {
    absolute_dagster_home(std::env::var_os(DAGSTER_HOME).map(PathBuf::from))
}

/// A value of `$DAGSTER_HOME` made absolute (a relative one is taken relative to the current
/// directory, as Dagster does); `None` when unset or empty.
fn absolute_dagster_home(dagster_home: Option<PathBuf>) -> Option<PathBuf> {
    let home = dagster_home.filter(|home| !home.as_os_str().is_empty())?;
    if home.is_absolute() {
        return Some(home);
    }
    Some(
        std::env::current_dir()
            .map(|cwd| cwd.join(&home))
            .unwrap_or(home),
    )
}

/// [`resolve_home`] with the value of `$DAGSTER_HOME` given explicitly (for callers that resolve
/// settings in one place, and for tests).
pub fn resolve_home_with(root: &Path, dagster_home: Option<PathBuf>) -> PathBuf {
    absolute_dagster_home(dagster_home).unwrap_or_else(|| root.join(DEFAULT_HOME_DIR))
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
