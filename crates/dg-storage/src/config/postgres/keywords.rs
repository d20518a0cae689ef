//! libpq's keywords as data: which ones dg refuses and why, which variables stand in for them,
//! and the parsing of the values that have a fixed form (`sslmode`, `connect_timeout`).
//! Messages name the keyword and what dg supports instead.

use std::time::Duration;

use super::PostgresUrlError;

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// Keywords libpq knows that dg cannot honour, with why or what to do instead.
pub(super) const UNSUPPORTED: &[(&str, &str)] = &[
    ("sslpassword", "dg reads unencrypted client keys only; decrypt the key (`openssl pkey -in KEY -out KEY.plain`) and point `sslkey` at it"),
    ("sslcrl", "certificate revocation lists are not checked by dg"),
    ("sslcrldir", "certificate revocation lists are not checked by dg"),
    ("sslkeylogfile", "dg does not log TLS keys"),
    ("passfile", "dg reads the password file named by `PGPASSFILE` (default `~/.pgpass`); set that variable instead"),
    ("service", "connection service files are not read by dg; write the settings out"),
    ("require_auth", "dg does not restrict authentication methods"),
    ("keepalives", "dg does not set TCP keepalives"),
    ("keepalives_idle", "dg does not set TCP keepalives"),
    ("keepalives_interval", "dg does not set TCP keepalives"),
    ("keepalives_count", "dg does not set TCP keepalives"),
    ("tcp_user_timeout", "dg does not set TCP timeouts; use `connect_timeout`"),
    ("replication", "dg does not open replication connections"),
    ("krbsrvname", "Kerberos (GSSAPI) authentication is not supported by dg"),
    ("gsslib", "Kerberos (GSSAPI) authentication is not supported by dg"),
    ("gssdelegation", "Kerberos (GSSAPI) authentication is not supported by dg"),
    ("requirepeer", "dg does not check the server's peer user"),
    ("min_protocol_version", "dg speaks protocol 3.0 only"),
    ("max_protocol_version", "dg speaks protocol 3.0 only"),
    ("scram_client_key", "dg authenticates with the password"),
    ("scram_server_key", "dg authenticates with the password"),
];

/// libpq's environment variables for TLS and timeout keywords (the others sqlx reads itself).
pub(super) const ENV_DEFAULTS: [(&str, &str); 7] = [
    ("PGSSLMODE", "sslmode"),
    ("PGREQUIRESSL", "requiressl"),
    ("PGSSLROOTCERT", "sslrootcert"),
    ("PGSSLCERT", "sslcert"),
    ("PGSSLKEY", "sslkey"),
    ("PGSSLCERTMODE", "sslcertmode"),
    ("PGCONNECT_TIMEOUT", "connect_timeout"),
];

/// What dg honours, for messages.
pub(crate) const SUPPORTED: &str = "host, hostaddr, port, dbname, user, password, sslmode, sslrootcert, \
sslcert, sslkey, connect_timeout, application_name, fallback_application_name, options, \
client_encoding (UTF8), gssencmode (disable, prefer), channel_binding (disable, prefer), \
target_session_attrs (any), load_balance_hosts, sslnegotiation (postgres), sslsni (1), \
sslcertmode (allow, disable), sslcompression (0), requiressl, ssl_min_protocol_version (up to TLSv1.2), \
ssl_max_protocol_version (TLSv1.3)";

pub(super) fn param(name: &str, message: impl Into<String>) -> PostgresUrlError {
    PostgresUrlError::Param {
        name: name.to_string(),
        message: message.into(),
    }
}

/// Accepts `value` if it is one of `allowed` (case-sensitive, as libpq).
pub(super) fn only(
    name: &str,
    value: &str,
    allowed: &[&str],
    why: &str,
) -> Result<(), PostgresUrlError> {
    if allowed.contains(&value) {
        return Ok(());
    }
    Err(param(
        name,
        format!(
            "`{value}` is not supported by dg ({why}); use {}",
            allowed
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        ),
    ))
}

pub(super) fn parse_ssl_mode(value: &str) -> Result<SslMode, PostgresUrlError> {
    Ok(match value {
        "disable" => SslMode::Disable,
        "allow" => SslMode::Allow,
        "prefer" => SslMode::Prefer,
        "require" => SslMode::Require,
        "verify-ca" => SslMode::VerifyCa,
        "verify-full" => SslMode::VerifyFull,
        _ => {
            return Err(param(
                "sslmode",
                format!("`{value}` is not one of `disable`, `allow`, `prefer`, `require`, `verify-ca`, `verify-full`"),
            ))
        }
    })
}

/// libpq's `connect_timeout`: whole seconds, at least 2; zero or less waits without limit.
pub(super) fn parse_timeout(value: &str) -> Result<Duration, PostgresUrlError> {
    let secs: i64 = value.trim().parse().map_err(|_| {
        param(
            "connect_timeout",
            format!("`{value}` is not a whole number of seconds"),
        )
    })?;
    Ok(match secs {
        i64::MIN..=0 => Duration::from_secs(u64::from(u32::MAX)),
        1 => Duration::from_secs(2),
        s => Duration::from_secs(s.unsigned_abs()),
    })
}
