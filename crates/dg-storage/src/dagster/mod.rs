//! The instance in Dagster's own terms (issue 14): the JSON Dagster serialises events and runs to
//! ([`serdes`]), and the files, tables and revision stamp real Dagster 1.13.27 and dagster-postgres
//! 0.29.27 create ([`schema`]), so that Dagster's tools read what dg writes and dg reads what they
//! write. Not used by [`crate::Storage`] yet.
//!
//! The reference for every table, row and file is `docs/dagster-instance-format.md`.

pub mod schema;
pub mod serdes;
