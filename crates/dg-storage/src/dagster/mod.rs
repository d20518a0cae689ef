//! The instance in Dagster's own layout (issue 14): the files, tables and revision stamp real
//! Dagster 1.13.27 and dagster-postgres 0.29.27 create, so that Dagster's tools read what dg
//! writes and dg reads what they write. Not used by [`crate::Storage`] yet.
//!
//! The reference for every table, row and file is `docs/dagster-instance-format.md`.

pub mod schema;

pub use schema::{
    check_revision, check_revision_pg, create_postgres_instance, create_run_db,
    create_sqlite_instance, RevisionError, SchemaError, SqliteInstance, HEAD_REVISION,
    OLDER_REVISIONS,
};
