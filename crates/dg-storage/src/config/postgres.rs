//! PostgreSQL settings as Dagster writes them: `postgres_url`, or `postgres_db` with `username`,
//! `password`, `hostname`, `db_name`, `port`, `params` and `scheme`, each possibly `{env: VAR}`.
//!
//! Both forms become the URL Dagster would build (`url`), read as SQLAlchemy reads it, and its
//! libpq keywords (the URL's query parameters, `params` of `postgres_db`) become sqlx connect
//! options ([`PostgresConfig::connect_options`]), TLS included. A keyword dg cannot honour is an
//! error naming it, never ignored.

mod keywords;
mod params;
mod url;

use std::time::Duration;
use std::{env, fmt};

use serde::Deserialize;
use sqlx::postgres::PgConnectOptions;

use super::source::{Resolver, Source};
use crate::error::Result;
use params::ConnectParams;

/// How long opening a PostgreSQL storage waits for a connection before it reports an error.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a PostgreSQL URL (or the connection parameters of `postgres_db`) cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostgresUrlError {
    /// The text is not `scheme://...`.
    #[error(
        "is not a URL of the form `postgresql://user:password@host:port/database?param=value`"
    )]
    NotAUrl,
    /// The port is not a number.
    #[error("has port `{0}`, which is not a number from 0 to 65535")]
    Port(String),
    /// A `%XX` escape decodes to bytes that are not UTF-8.
    #[error("holds `{0}`, whose %-escapes are not UTF-8")]
    NotUtf8(String),
    /// A SQLAlchemy driver that does not take libpq's parameters.
    #[error("uses scheme `{0}`; dg supports `postgresql`, `postgres`, `postgresql+psycopg2` and `postgresql+psycopg` (libpq's parameters)")]
    Scheme(String),
    /// A connection parameter dg cannot honour, or a bad value.
    #[error("parameter `{name}` {message}")]
    Param {
        /// The libpq keyword.
        name: String,
        /// What is wrong and what to use instead.
        message: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPostgres {
    postgres_url: Option<Source<String>>,
    postgres_db: Option<RawPostgresDb>,
    auth_provider: Option<serde_norway::Value>,
    should_autocreate_tables: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPostgresDb {
    username: Source<String>,
    #[serde(default)]
    password: Option<Source<String>>,
    hostname: Source<String>,
    db_name: Source<String>,
    port: Option<Source<i64>>,
    #[serde(default)]
    params: serde_norway::Mapping,
    scheme: Option<Source<String>>,
}

/// A resolved PostgreSQL connection. `Debug` and `Display` never show the password.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresConfig {
    /// The connection URL as Dagster builds it, password included.
    pub url: String,
    /// Host (or socket folder), for messages.
    pub host: String,
    /// Port, for messages.
    pub port: u16,
    /// Database name, for messages.
    pub database: String,
    /// The dotted `dagster.yaml` key these settings came from (`storage.postgres.postgres_db`).
    pub key: String,
    /// How long to wait for a connection before failing (libpq's `connect_timeout`, default 5 s).
    pub connect_timeout: Duration,
    /// Whether to create missing tables (`should_autocreate_tables`, default true); dg never migrates.
    pub autocreate_tables: bool,
    params: Box<ConnectParams>,
    /// Where `url` starts its database path, for [`PostgresConfig::with_database`].
    path_start: usize,
}

impl PostgresConfig {
    /// Settings from a URL, outside any config file (tests, benchmarks); `key` names its source.
    /// libpq's `PGSSL*` variables and `$HOME/.postgresql` files apply, as in libpq.
    pub fn from_url(url: &str, key: &str) -> Result<Self, PostgresUrlError> {
        Self::parse(url, key, &|var| env::var(var).ok())
    }

    fn parse(
        url: &str,
        key: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, PostgresUrlError> {
        let parts = url::parse(url)?;
        match parts.scheme.as_str() {
            "postgresql" | "postgres" | "postgresql+psycopg2" | "postgresql+psycopg" => {}
            other => return Err(PostgresUrlError::Scheme(other.to_string())),
        }
        let params = ConnectParams::from_url(&parts, env)?;
        let options = params.to_options()?;
        let host = match (&params.host, options.get_socket()) {
            (Some(host), _) => host.clone(),
            (None, Some(socket)) => socket.display().to_string(),
            (None, None) => options.get_host().to_string(),
        };
        Ok(Self {
            url: url.to_string(),
            host,
            port: options.get_port(),
            database: options
                .get_database()
                .unwrap_or(options.get_username())
                .to_string(),
            key: key.to_string(),
            connect_timeout: params.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
            autocreate_tables: true,
            path_start: parts.path_start,
            params: Box::new(params),
        })
    }

    /// sqlx's options for this connection: host, port, user, password (else `PGPASSWORD` or
    /// `~/.pgpass`), database, TLS (`sslmode`, `sslrootcert`, `sslcert`, `sslkey`),
    /// `application_name` and `options`. Connect with [`PostgresConfig::connect_timeout`] as the
    /// bound. Fails only if the environment changed since the config was read so that the host is
    /// no longer usable.
    pub fn connect_options(&self) -> Result<PgConnectOptions, PostgresUrlError> {
        self.params.to_options()
    }

    /// The same server with another database (the URL's path replaced).
    pub fn with_database(&self, database: &str) -> Self {
        let query = self.url[self.path_start..].split_once('?').map(|(_, q)| q);
        let mut url = format!(
            "{}/{}",
            &self.url[..self.path_start],
            url::quote(database, "")
        );
        if let Some(q) = query {
            url = format!("{url}?{q}");
        }
        let mut params = self.params.clone();
        params.dbname = Some(database.to_string());
        Self {
            url,
            database: database.to_string(),
            params,
            ..self.clone()
        }
    }

    pub(crate) fn resolve(raw: &RawPostgres, key: &str, r: &Resolver<'_>) -> Result<Self> {
        let autocreate_tables = raw.should_autocreate_tables.unwrap_or(true);
        if raw.auth_provider.is_some() {
            return Err(r.invalid(
                r.line_of("auth_provider"),
                format!("`{key}.auth_provider` (cloud identity login) is not supported by dg; use a password"),
            ));
        }
        let (url, key, from_db) = match (&raw.postgres_url, &raw.postgres_db) {
            (Some(url), None) => {
                let key = format!("{key}.postgres_url");
                (r.string(url, &key)?, key, false)
            }
            (None, Some(db)) => {
                let key = format!("{key}.postgres_db");
                (db_url(db, &key, r)?, key, true)
            }
            _ => {
                return Err(r.invalid(
                    r.line_of("postgres:"),
                    format!("`{key}` takes exactly one of `postgres_url` and `postgres_db`"),
                ))
            }
        };
        let mut config = Self::parse(&url, &key, r.env).map_err(|e| {
            let (line, message) = match &e {
                PostgresUrlError::Param { name, message } if from_db => (
                    r.line_of(&format!("{name}:")),
                    format!("`{key}.params.{name}` {message}"),
                ),
                PostgresUrlError::Param { name, .. } => {
                    (r.line_of(&format!("{name}=")), format!("`{key}`: {e}"))
                }
                _ => (r.line_of("postgres_"), format!("`{key}` {e}")),
            };
            r.invalid(line.or_else(|| r.line_of("postgres_")), message)
        })?;
        config.autocreate_tables = autocreate_tables;
        Ok(config)
    }
}

/// Builds the URL of `postgres_db` as dagster-postgres does (`get_conn_string`).
fn db_url(db: &RawPostgresDb, key: &str, r: &Resolver<'_>) -> Result<String> {
    let user = r.string(&db.username, &format!("{key}.username"))?;
    let password = match &db.password {
        Some(p) => r.string(p, &format!("{key}.password"))?,
        None => String::new(),
    };
    let host = r.string(&db.hostname, &format!("{key}.hostname"))?;
    let name = r.string(&db.db_name, &format!("{key}.db_name"))?;
    let port = match &db.port {
        Some(p) => r.int(p, &format!("{key}.port"))?,
        None => 5432,
    };
    let port = u16::try_from(port).map_err(|_| {
        r.invalid(
            r.line_of("port:"),
            format!("`{key}.port` must be between 0 and 65535, not {port}"),
        )
    })?;
    let scheme = match &db.scheme {
        Some(s) => r.string(s, &format!("{key}.scheme"))?,
        None => "postgresql".into(),
    };
    let mut params = Vec::new();
    for (k, v) in &db.params {
        let name = python_str(k).ok_or_else(|| {
            r.invalid(
                r.line_of("params:"),
                format!("`{key}.params` has a key that is not a plain value"),
            )
        })?;
        let value = python_str(v).ok_or_else(|| {
            r.invalid(
                r.line_of(&format!("{name}:")),
                format!("`{key}.params.{name}` must be a string or number, not a list or mapping"),
            )
        })?;
        params.push((name, value));
    }
    Ok(url::conn_string(
        &scheme, &user, &password, &host, port, &name, &params,
    ))
}

/// Python's `str()` of a YAML scalar, as `urlencode` writes it into the URL.
fn python_str(v: &serde_norway::Value) -> Option<String> {
    use serde_norway::Value;
    Some(match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64()?;
            if f.fract() == 0.0 && f.is_finite() {
                format!("{f:.1}")
            } else {
                f.to_string()
            }
        }
        Value::Number(n) => n.to_string(),
        Value::Tagged(t) => return python_str(&t.value),
        Value::Sequence(_) | Value::Mapping(_) => return None,
    })
}

impl fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database", &self.database)
            .field("key", &self.key)
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for PostgresConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PostgreSQL database `{}` at `{}:{}`",
            self.database, self.host, self.port
        )
    }
}

#[cfg(test)]
mod tests;
