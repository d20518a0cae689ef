//! Config model of dg projects and workspaces: context discovery, strict validation with file, line
//! and dotted key in every error, and Dagster's defaults.

pub mod diagnostic;
pub mod env;

pub use diagnostic::Diagnostic;

/// The version of `dagster` that scaffolded projects pin and that the tests run against.
pub const DAGSTER_VERSION: &str = include_str!("../../../.dagster-version").trim_ascii();
