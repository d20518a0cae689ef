//! libpq's connection keywords, as Dagster passes them (the URL's parts and its query parameters,
//! through SQLAlchemy to psycopg), mapped onto sqlx's `PgConnectOptions`.
//!
//! Guarantees: every keyword libpq knows is either honoured or refused with a message naming it and
//! what dg supports instead; none is ignored. Keywords libpq does not know are refused too, as
//! libpq refuses them. Where sqlx differs from libpq, the difference is made explicit here:
//! `sslmode=allow` tries TLS first (sqlx has no plain-then-TLS fallback), and a verifying mode trusts
//! the system's roots besides `sslrootcert` (sqlx always loads them).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgSslMode};

pub(crate) use super::keywords::SslMode;
use super::keywords::{
    only, param, parse_ssl_mode, parse_timeout, ENV_DEFAULTS, SUPPORTED, UNSUPPORTED,
};
use super::url::{quote, UrlParts};
use super::PostgresUrlError;

/// Where the CA certificates that verify the server come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RootCert {
    /// A PEM file (`sslrootcert=<path>`, or `~/.postgresql/root.crt` when it exists).
    File(PathBuf),
    /// The system's trusted roots (`sslrootcert=system`).
    System,
}

/// The connection keywords dg honours, resolved (defaults from `~/.postgresql` applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConnectParams {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub dbname: Option<String>,
    pub ssl_mode: SslMode,
    pub root_cert: Option<RootCert>,
    pub client_cert: Option<(PathBuf, PathBuf)>,
    pub application_name: Option<String>,
    pub options: Option<String>,
    pub connect_timeout: Option<Duration>,
}

impl ConnectParams {
    /// The keywords of `url`, its query parameters overriding its parts as in SQLAlchemy, with
    /// libpq's `PGSSL*`/`PGCONNECT_TIMEOUT` variables from `env` for keywords not given; default
    /// certificate files are looked for under `$HOME/.postgresql`.
    pub fn from_url(
        url: &UrlParts,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, PostgresUrlError> {
        let mut p = Self {
            host: url.host.clone(),
            port: url.port,
            user: url.username.clone().filter(|u| !u.is_empty()),
            password: url.password.clone().filter(|p| !p.is_empty()),
            dbname: url.database.clone().filter(|d| !d.is_empty()),
            ssl_mode: SslMode::Prefer,
            root_cert: None,
            client_cert: None,
            application_name: None,
            options: None,
            connect_timeout: None,
        };
        let mut pairs: Vec<(&str, String, Option<&str>)> = url
            .query
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone(), None))
            .collect();
        for (var, keyword) in ENV_DEFAULTS {
            if !url.query.iter().any(|(k, _)| k == keyword) {
                if let Some(value) = env(var).filter(|v| !v.is_empty()) {
                    pairs.push((keyword, value, Some(var)));
                }
            }
        }
        let has_sslmode = pairs.iter().any(|(k, ..)| *k == "sslmode");
        let mut ssl_mode = None;
        let (mut cert, mut key, mut hostaddr, mut fallback_name) = (None, None, None, None);
        let mut use_default_certs = true;
        let mut apply = |name: &str, value: &str| -> Result<(), PostgresUrlError> {
            match name {
                "host" => p.host = Some(value.to_string()),
                "hostaddr" => hostaddr = Some(value.to_string()),
                "port" => {
                    p.port = Some(value.parse().map_err(|_| {
                        param(
                            name,
                            format!("`{value}` is not a port number (one host and one port only)"),
                        )
                    })?)
                }
                "dbname" => p.dbname = Some(value.to_string()),
                "user" => p.user = Some(value.to_string()),
                "password" => p.password = Some(value.to_string()),
                "sslmode" => ssl_mode = Some(parse_ssl_mode(value)?),
                "requiressl" => {
                    only(name, value, &["0", "1"], "it is 0 or 1")?;
                    if !has_sslmode {
                        ssl_mode = Some(if value == "1" {
                            SslMode::Require
                        } else {
                            SslMode::Prefer
                        });
                    }
                }
                "sslrootcert" if value == "system" => p.root_cert = Some(RootCert::System),
                "sslrootcert" => p.root_cert = Some(RootCert::File(value.into())),
                "sslcert" => cert = Some(PathBuf::from(value)),
                "sslkey" => key = Some(PathBuf::from(value)),
                "sslcertmode" => {
                    only(
                        name,
                        value,
                        &["allow", "disable"],
                        "a client certificate is sent whenever `sslcert` is set",
                    )?;
                    use_default_certs = value == "allow";
                }
                "application_name" => p.application_name = Some(value.to_string()),
                "fallback_application_name" => fallback_name = Some(value.to_string()),
                "options" => p.options = Some(value.to_string()),
                "connect_timeout" => p.connect_timeout = Some(parse_timeout(value)?),
                "client_encoding" => {
                    if !matches!(
                        value.to_ascii_lowercase().as_str(),
                        "utf8" | "utf-8" | "unicode"
                    ) {
                        return Err(param(name, format!("`{value}` is not supported by dg, which always talks UTF8; use `UTF8`")));
                    }
                }
                "gssencmode" => only(
                    name,
                    value,
                    &["disable", "prefer"],
                    "it has no GSSAPI encryption",
                )?,
                "channel_binding" => only(
                    name,
                    value,
                    &["disable", "prefer"],
                    "it authenticates with SCRAM without channel binding",
                )?,
                "target_session_attrs" => only(name, value, &["any"], "it connects to one host")?,
                "load_balance_hosts" => only(
                    name,
                    value,
                    &["disable", "random"],
                    "it connects to one host",
                )?,
                "sslnegotiation" => only(
                    name,
                    value,
                    &["postgres"],
                    "it negotiates TLS the PostgreSQL way",
                )?,
                "sslsni" => only(name, value, &["1"], "TLS always sends the host name")?,
                "sslcompression" => only(name, value, &["0"], "TLS compression is never used")?,
                "ssl_min_protocol_version" => only(
                    name,
                    value,
                    &["TLSv1", "TLSv1.1", "TLSv1.2"],
                    "it always uses TLS 1.2 or 1.3",
                )?,
                "ssl_max_protocol_version" => {
                    only(name, value, &["TLSv1.3"], "it may use TLS 1.3")?
                }
                _ => {
                    if let Some((_, why)) = UNSUPPORTED.iter().find(|(k, _)| *k == name) {
                        return Err(param(name, format!("is not supported: {why}")));
                    }
                    if name.starts_with("oauth_") {
                        return Err(param(
                            name,
                            "is not supported: dg authenticates with the password",
                        ));
                    }
                    return Err(param(
                        name,
                        format!("is not a libpq connection parameter; dg supports {SUPPORTED}"),
                    ));
                }
            }
            Ok(())
        };
        let mut seen: Vec<&str> = Vec::new();
        for (name, value, var) in &pairs {
            if seen.contains(name) {
                return Err(param(name, "is given twice; give it once"));
            }
            seen.push(name);
            apply(name, value).map_err(|e| match (e, var) {
                (PostgresUrlError::Param { name, message }, Some(var)) => PostgresUrlError::Param {
                    name,
                    message: format!("{message} (the value is `{var}`'s)"),
                },
                (e, _) => e,
            })?;
        }
        if let Some(addr) = hostaddr {
            match &p.host {
                Some(h) if !h.is_empty() && *h != addr => {
                    return Err(param("hostaddr", format!("`{addr}` with host `{h}` is not supported by dg (it connects to and verifies one name); give only `host`")));
                }
                _ => p.host = Some(addr),
            }
        }
        if let Some(h) = &p.host {
            if h.contains(',') {
                return Err(param(
                    "host",
                    format!("`{h}` names several hosts; dg connects to one"),
                ));
            }
        }
        p.application_name = p.application_name.or(fallback_name);
        p.ssl_mode = match (ssl_mode, &p.root_cert) {
            (None, Some(RootCert::System)) => SslMode::VerifyFull,
            (Some(m), Some(RootCert::System)) if m != SslMode::VerifyFull => {
                return Err(param(
                    "sslmode",
                    "must be `verify-full` with `sslrootcert=system` (as in libpq)",
                ));
            }
            (m, _) => m.unwrap_or(SslMode::Prefer),
        };
        let home = env(dg_core::env::HOME).map(PathBuf::from);
        p.apply_defaults(home.as_deref(), cert, key, use_default_certs)?;
        Ok(p)
    }

    /// libpq's defaults under `~/.postgresql`: `root.crt` (whose presence makes `require` verify
    /// the CA) and the client pair `postgresql.crt` / `postgresql.key`.
    fn apply_defaults(
        &mut self,
        home: Option<&Path>,
        cert: Option<PathBuf>,
        key: Option<PathBuf>,
        use_default_certs: bool,
    ) -> Result<(), PostgresUrlError> {
        if self.ssl_mode == SslMode::Disable {
            return Ok(());
        }
        let default = |file: &str| {
            home.map(|h| h.join(".postgresql").join(file))
                .filter(|p| p.is_file())
        };
        if self.root_cert.is_none() {
            self.root_cert = default("root.crt").map(RootCert::File);
        }
        match (&self.root_cert, self.ssl_mode) {
            (Some(RootCert::File(_)), SslMode::Require) => self.ssl_mode = SslMode::VerifyCa,
            (None, SslMode::VerifyCa | SslMode::VerifyFull) => {
                return Err(param(
                    "sslrootcert",
                    "is needed to verify the server: give the CA file, or `system` for the system's trusted roots \
                     (libpq looks for `~/.postgresql/root.crt`, which does not exist)",
                ))
            }
            _ => {}
        }
        if !use_default_certs {
            if cert.is_some() {
                return Err(param("sslcert", "is set while `sslcertmode` is `disable`"));
            }
            return Ok(());
        }
        let cert = cert.or_else(|| default("postgresql.crt"));
        let key = key.or_else(|| default("postgresql.key"));
        self.client_cert = match (cert, key) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            (Some(c), None) => {
                return Err(param(
                    "sslkey",
                    format!(
                        "is missing: the client certificate `{}` needs its key",
                        c.display()
                    ),
                ))
            }
            (None, Some(k)) => {
                return Err(param(
                    "sslcert",
                    format!(
                        "is missing: the client key `{}` needs its certificate",
                        k.display()
                    ),
                ))
            }
        };
        Ok(())
    }

    /// sqlx's options for these keywords; the password falls back to `PGPASSWORD` and `~/.pgpass`,
    /// and the other unset ones to the `PG*` variables sqlx reads, as in libpq.
    pub fn to_options(&self) -> Result<PgConnectOptions, PostgresUrlError> {
        // Through sqlx's URL parser, so that its password-file lookup sees the final host, port,
        // user and database.
        let mut url = String::from("postgres://");
        if let Some(user) = &self.user {
            url.push_str(&quote(user, ""));
            if let Some(pw) = &self.password {
                url.push(':');
                url.push_str(&quote(pw, ""));
            }
            url.push('@');
        }
        let mut query = Vec::new();
        match &self.host {
            Some(h) if h.starts_with('/') => query.push(format!("host={}", quote(h, ""))),
            Some(h) if h.contains(':') => url.push_str(&format!("[{h}]")),
            Some(h) => url.push_str(h),
            None => {}
        }
        if let Some(port) = self.port {
            url.push_str(&format!(":{port}"));
        }
        url.push('/');
        if let Some(db) = &self.dbname {
            url.push_str(&quote(db, ""));
        }
        if self.user.is_none() {
            if let Some(pw) = &self.password {
                query.push(format!("password={}", quote(pw, "")));
            }
        }
        if let Some(o) = &self.options {
            query.push(format!("options={}", quote(o, "")));
        }
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query.join("&"));
        }
        let mut options = PgConnectOptions::from_str(&url).map_err(|e| {
            param(
                "host",
                format!(
                    "`{}` is not usable: {e}",
                    self.host.as_deref().unwrap_or("")
                ),
            )
        })?;
        if let Some(h) = self.host.as_deref().filter(|h| h.contains(':')) {
            // sqlx keeps the URL's brackets around an IPv6 address; it connects to the bare one.
            options = options.host(h);
        }
        options = options.ssl_mode(match self.ssl_mode {
            SslMode::Disable => PgSslMode::Disable,
            // sqlx cannot start plain and retry with TLS; trying TLS first connects wherever libpq's
            // `allow` does.
            SslMode::Allow | SslMode::Prefer => PgSslMode::Prefer,
            SslMode::Require => PgSslMode::Require,
            SslMode::VerifyCa => PgSslMode::VerifyCa,
            SslMode::VerifyFull => PgSslMode::VerifyFull,
        });
        if let Some(RootCert::File(path)) = &self.root_cert {
            options = options.ssl_root_cert(path);
        }
        if let Some((cert, key)) = &self.client_cert {
            options = options.ssl_client_cert(cert).ssl_client_key(key);
        }
        if let Some(name) = &self.application_name {
            options = options.application_name(name);
        }
        Ok(options)
    }
}
