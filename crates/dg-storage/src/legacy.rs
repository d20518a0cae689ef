//! A previous dg's own database. Before issue 14, dg kept runs and events in its own schema at
//! `<home>/storage/dg.db`; the instance is now Dagster's own layout, and that file is no longer
//! read. [`legacy_database`] finds it so that `dg dev` and `dg launch` can say so once; it is never
//! opened or changed.

use std::path::PathBuf;

use crate::config::{InstanceConfig, LEGACY_DATABASE};

/// A previous dg's database in the instance home (`<home>/storage/dg.db`), if one is there.
pub fn legacy_database(config: &InstanceConfig) -> Option<PathBuf> {
    let path = config.home.join(LEGACY_DATABASE);
    path.is_file().then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_only_an_existing_file_and_leaves_it_alone() {
        let home = tempfile::tempdir().unwrap();
        let config = InstanceConfig::default_for(home.path());
        assert_eq!(legacy_database(&config), None);
        std::fs::create_dir_all(home.path().join("storage")).unwrap();
        std::fs::write(home.path().join("storage/dg.db"), b"old").unwrap();
        assert_eq!(
            legacy_database(&config),
            Some(home.path().join("storage/dg.db"))
        );
        assert_eq!(
            std::fs::read(home.path().join("storage/dg.db")).unwrap(),
            b"old"
        );
    }
}
