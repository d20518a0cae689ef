//! Every error the storage crate reports, each naming the file, key, database or run it is about and
//! saying what to do next (through [`Diagnostic::hint`]).

use std::path::PathBuf;

use dg_core::Diagnostic;

/// Errors of instance configuration and of both storage backends.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// `dagster.yaml` exists but could not be read.
    #[error("could not read `{}`", path.display())]
    ConfigRead {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// `dagster.yaml` is not valid YAML or has a key or value we do not accept.
    #[error("invalid instance config `{}`{}: {message}", path.display(), fmt_line(*line))]
    ConfigInvalid {
        /// The file.
        path: PathBuf,
        /// 1-based line of the problem, when known.
        line: Option<usize>,
        /// What is wrong, naming the dotted key.
        message: String,
    },
    /// A `{env: VAR}` value names an environment variable that is not set.
    #[error(
        "`{key}` in `{}`{} reads environment variable `{var}`, which is not set",
        path.display(),
        fmt_line(*line)
    )]
    EnvVarMissing {
        /// The file.
        path: PathBuf,
        /// 1-based line of the `env:` value, when found.
        line: Option<usize>,
        /// Dotted key of the value.
        key: String,
        /// The environment variable.
        var: String,
    },
    /// A storage kind Dagster knows but dg does not implement (`mysql`, `custom`).
    #[error("`{key}` in `{}` selects `{kind}` storage, which dg does not support", path.display())]
    UnsupportedStorage {
        /// The file.
        path: PathBuf,
        /// Dotted key that selects it.
        key: String,
        /// The kind or class named there.
        kind: String,
    },
    /// A folder for the instance could not be created.
    #[error("could not create the folder `{}`", path.display())]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// PostgreSQL could not be reached or refused the connection.
    #[error("could not connect to PostgreSQL at `{host}:{port}` (database `{database}`, from `{key}`): {reason}")]
    PostgresConnect {
        /// Host name from the config.
        host: String,
        /// Port from the config.
        port: u16,
        /// Database name from the config.
        database: String,
        /// The `dagster.yaml` key (or other source) the connection settings came from.
        key: String,
        /// What went wrong, already made readable (timeouts have no source error).
        reason: String,
    },
    /// The disk (or the database's quota) is full: nothing of the failed write was stored.
    #[error("{location} is full: the write was not stored")]
    DiskFull {
        /// The database, e.g. "SQLite database `/x/.dagster/history/runs.db`".
        location: String,
    },
    /// The instance's schema is not at the revision dg reads and writes (Dagster 1.13.27's head):
    /// an older one needs `dagster instance migrate`, dg never migrates.
    #[error("{location}: {source}")]
    Revision {
        /// The database.
        location: String,
        /// Why the revision is refused.
        #[source]
        source: crate::dagster::schema::RevisionError,
    },
    /// A database that holds tables by the names Dagster uses but is not a Dagster instance (such
    /// as a previous dg's own schema): dg refuses to add anything to it.
    #[error("{location} is not a Dagster instance: {message}")]
    NotDagster {
        /// The database.
        location: String,
        /// What was found.
        message: String,
    },
    /// Creating or checking the instance's files failed.
    #[error(transparent)]
    Layout(#[from] crate::dagster::schema::SchemaError),
    /// A run id that does not exist.
    #[error("run `{run_id}` does not exist")]
    RunNotFound {
        /// The run id.
        run_id: String,
    },
    /// A run with this id already exists.
    #[error("run `{run_id}` already exists")]
    RunExists {
        /// The run id.
        run_id: String,
    },
    /// A status change out of a terminal status (success, failure, canceled).
    #[error("run `{run_id}` is already `{current}` and cannot become `{requested}`")]
    RunFinished {
        /// The run id.
        run_id: String,
        /// Its current (terminal) status.
        current: String,
        /// The status asked for.
        requested: String,
    },
    /// A batch of events whose sequence numbers leave a gap or are not ascending.
    #[error("events of run `{run_id}`: {message}")]
    BadSequence {
        /// The run id.
        run_id: String,
        /// What is wrong with the numbers.
        message: String,
    },
    /// A stored value could not be decoded (written by something else, or corrupted).
    #[error("{location}: stored {what} could not be read: {message}")]
    Corrupt {
        /// The database.
        location: String,
        /// Which value.
        what: String,
        /// The decoding error.
        message: String,
    },
    /// A transient failure (a lost connection, a server restarting, a serialization conflict, no
    /// free connection) that lasted past the retry budget ([`crate::RetryPolicy`]).
    #[error(
        "{location} stayed unavailable: gave up after {attempts} attempts over {waited_secs:.0} s"
    )]
    Unavailable {
        /// The database.
        location: String,
        /// How many times the operation was tried.
        attempts: u32,
        /// Seconds from the first failure to giving up.
        waited_secs: f64,
        /// The last failure.
        #[source]
        last: Box<StorageError>,
    },
    /// Any other database error.
    #[error("{location}: {action} failed")]
    Database {
        /// The database.
        location: String,
        /// What we were doing ("appending events of run `x`").
        action: String,
        /// The database error.
        #[source]
        source: sqlx::Error,
    },
}

fn fmt_line(line: Option<usize>) -> String {
    line.map(|l| format!(" line {l}")).unwrap_or_default()
}

impl Diagnostic for StorageError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            Self::ConfigRead { path, .. } => format!("Check the permissions of `{}`.", path.display()),
            Self::ConfigInvalid { .. } => {
                "Fix the key or value named above; `dagster.yaml` takes Dagster's instance keys (`storage: {sqlite: ...}` or `storage: {postgres: ...}`).".into()
            }
            Self::EnvVarMissing { var, .. } => format!("Set `{var}` in the environment, or write the value in the file."),
            Self::UnsupportedStorage { .. } => {
                "Use `storage: {sqlite: {base_dir: ...}}` or `storage: {postgres: ...}`.".into()
            }
            Self::CreateDir { .. } => "Check that the instance home (`$DAGSTER_HOME` or `.dagster/`) is writable.".into(),
            Self::PostgresConnect { key, .. } => format!(
                "Check that PostgreSQL is running and reachable, and the settings under `{key}` in `dagster.yaml`."
            ),
            Self::DiskFull { .. } => "Free disk space (or raise the database quota) and retry.".into(),
            Self::Revision { source, .. } | Self::Layout(crate::dagster::schema::SchemaError::Revision { source, .. }) => match source {
                crate::dagster::schema::RevisionError::Older { .. } => {
                    "Upgrade the instance with `dagster instance migrate` (Dagster 1.13), then run dg again.".into()
                }
                _ => "Point `DAGSTER_HOME` (or `dagster.yaml`'s storage) at an instance made by Dagster 1.12/1.13 or by dg.".into(),
            },
            Self::NotDagster { .. } => {
                "Point `storage.postgres` in `dagster.yaml` at an empty database or at a Dagster instance's database (a previous dg's database is no longer read; create a new one).".into()
            }
            Self::Layout(_) => return None,
            Self::RunNotFound { .. } => "List runs to find the right id.".into(),
            Self::RunExists { .. } => "Generate a fresh run id.".into(),
            Self::RunFinished { .. } => return None,
            Self::BadSequence { .. } => {
                "Number events of a run 1, 2, 3, ... and resend from the last acknowledged number.".into()
            }
            Self::Unavailable { last, .. } => last.hint().unwrap_or_else(|| {
                "Check that the database server is running and reachable, then retry.".into()
            }),
            Self::Corrupt { .. } => return None,
            Self::Database { .. } => return None,
        })
    }
}

impl StorageError {
    /// Whether the same operation may succeed if tried again shortly: the connection to PostgreSQL
    /// was lost or refused (the server restarting, a backend terminated), no connection was free in
    /// time, or PostgreSQL reported a serialization failure, a deadlock, an administrator or crash
    /// shutdown, a server still starting, or too many connections. Every write of [`crate::Storage`]
    /// is safe to repeat after such an error, even one whose outcome is unknown (a lost `COMMIT`
    /// acknowledgement): see the trait's guarantees.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::PostgresConnect { .. } => true,
            Self::Database { source, .. } => crate::sql::is_transient(source),
            _ => false,
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;
