//! PostgreSQL settings as Dagster writes them: `postgres_url`, or `postgres_db` with `username`,
//! `password`, `hostname`, `db_name`, `port`, `params` and `scheme`, each possibly `{env: VAR}`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;
use sqlx::postgres::PgConnectOptions;

use super::source::{Resolver, Source};
use crate::error::Result;

/// How long opening a PostgreSQL storage waits for a connection before it reports an error.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

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
    params: BTreeMap<String, serde_norway::Value>,
    scheme: Option<Source<String>>,
}

/// A resolved PostgreSQL connection. `Debug` and `Display` never show the password.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresConfig {
    /// The connection URL, password included.
    pub url: String,
    /// Host, for messages.
    pub host: String,
    /// Port, for messages.
    pub port: u16,
    /// Database name, for messages.
    pub database: String,
    /// The dotted `dagster.yaml` key these settings came from (`storage.postgres.postgres_db`).
    pub key: String,
    /// How long to wait for a connection before failing.
    pub connect_timeout: Duration,
    /// Whether to create and migrate tables (`should_autocreate_tables`, default true).
    pub autocreate_tables: bool,
}

impl PostgresConfig {
    /// Settings from a URL, outside any config file (tests, benchmarks); `key` names its source.
    pub fn from_url(url: &str, key: &str) -> Result<Self, sqlx::Error> {
        let options = PgConnectOptions::from_str(url)?;
        Ok(Self {
            url: url.to_string(),
            host: options.get_host().to_string(),
            port: options.get_port(),
            database: options.get_database().unwrap_or("postgres").to_string(),
            key: key.to_string(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            autocreate_tables: true,
        })
    }

    /// The same server with another database (the URL's path replaced).
    pub fn with_database(&self, database: &str) -> Self {
        let (base, query) = match self.url.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (self.url.as_str(), None),
        };
        let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
        let base = match base[after_scheme..].find('/') {
            Some(i) => &base[..after_scheme + i],
            None => base,
        };
        let mut url = format!("{base}/{}", encode(database));
        if let Some(q) = query {
            url = format!("{url}?{q}");
        }
        Self {
            url,
            database: database.to_string(),
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
        let (url, key) = match (&raw.postgres_url, &raw.postgres_db) {
            (Some(url), None) => {
                let key = format!("{key}.postgres_url");
                (r.string(url, &key)?, key)
            }
            (None, Some(db)) => {
                let key = format!("{key}.postgres_db");
                (db_url(db, &key, r)?, key)
            }
            _ => {
                return Err(r.invalid(
                    r.line_of("postgres:"),
                    format!("`{key}` takes exactly one of `postgres_url` and `postgres_db`"),
                ))
            }
        };
        let mut config = Self::from_url(&url, &key).map_err(|e| {
            r.invalid(
                r.line_of("postgres_"),
                format!("`{key}` is not a valid PostgreSQL URL: {e}"),
            )
        })?;
        config.autocreate_tables = autocreate_tables;
        Ok(config)
    }
}

/// Builds `scheme://user:password@host:port/db?params` from `postgres_db`.
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
    let auth = if password.is_empty() {
        encode(&user)
    } else {
        format!("{}:{}", encode(&user), encode(&password))
    };
    let mut url = format!("{scheme}://{auth}@{host}:{port}/{}", encode(&name));
    let params: Vec<String> = db
        .params
        .iter()
        .map(|(k, v)| {
            let v = match v {
                serde_norway::Value::String(s) => s.clone(),
                other => serde_norway::to_string(other)
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            };
            format!("{}={}", encode(k), encode(&v))
        })
        .collect();
    if !params.is_empty() {
        url = format!("{url}?{}", params.join("&"));
    }
    Ok(url)
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
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
