//! PostgreSQL URLs as Dagster writes and reads them.
//!
//! Dagster builds the URL of `postgres_db` by quoting only the user name and password (with Python's
//! `urllib.parse.quote`, which leaves `/` alone) and the `params` values (with `urlencode`), then
//! hands the text to SQLAlchemy, whose URL pattern takes the password up to the last character
//! before `@` (so a `/` in it is fine) and passes the query parameters to libpq as connection
//! keywords. This module does the same two steps, so that a `dagster.yaml` reaches the same server,
//! database and user in dg as in Dagster, and `PostgresConfig::url` is Dagster's text exactly.

use std::fmt::Write as _;

use super::PostgresUrlError;

/// The parts of a URL, decoded as SQLAlchemy decodes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UrlParts {
    /// `postgresql`, `postgres`, `postgresql+psycopg2`, ...
    pub scheme: String,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Taken literally: SQLAlchemy does not decode the host.
    pub host: Option<String>,
    pub port: Option<u16>,
    pub database: Option<String>,
    /// Query parameters in order, `+` and `%XX` decoded, blank values dropped.
    pub query: Vec<(String, String)>,
    /// Byte offset in the URL where the database path (`/name`) would start.
    pub path_start: usize,
}

/// Dagster's `get_conn_string`: `scheme://user[:password]@host:port/db[?params]`.
pub(crate) fn conn_string(
    scheme: &str,
    username: &str,
    password: &str,
    host: &str,
    port: u16,
    db_name: &str,
    params: &[(String, String)],
) -> String {
    let userinfo = if password.is_empty() {
        quote(username, "/")
    } else {
        format!("{}:{}", quote(username, "/"), quote(password, "/"))
    };
    let mut url = format!("{scheme}://{userinfo}@{host}:{port}/{db_name}");
    if !params.is_empty() {
        let query: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{}={}", quote(k, ""), quote(v, "")))
            .collect();
        url.push('?');
        url.push_str(&query.join("&"));
    }
    url
}

/// Python's `urllib.parse.quote`: everything but ASCII letters, digits, `_.-~` and `safe` is
/// percent-encoded (as UTF-8, upper-case hex).
pub(crate) fn quote(s: &str, safe: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"_.-~".contains(&b) || safe.as_bytes().contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Splits a URL as SQLAlchemy's URL pattern does:
/// `scheme://[user[:password]@][host][:port][/database][?query]`.
pub(crate) fn parse(url: &str) -> Result<UrlParts, PostgresUrlError> {
    let not_url = || PostgresUrlError::NotAUrl;
    let sep = url.find("://").ok_or_else(not_url)?;
    let scheme = &url[..sep];
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '+')
    {
        return Err(not_url());
    }
    let mut rest = &url[sep + 3..];
    let mut offset = sep + 3;

    // The user part: a user name without `:` or `/`, then optionally `:` and a password without
    // `@`, then `@`. Without such a prefix the URL has no user.
    let (mut username, mut password) = (None, None);
    let user_end = rest.find([':', '/', '@']).unwrap_or(rest.len());
    let after_user = &rest[user_end..];
    let userinfo_len = if after_user.starts_with('@') {
        username = Some(&rest[..user_end]);
        Some(user_end + 1)
    } else if let Some(after_colon) = after_user.strip_prefix(':') {
        after_colon.find('@').map(|at| {
            username = Some(&rest[..user_end]);
            password = Some(&after_colon[..at]);
            user_end + 1 + at + 1
        })
    } else {
        None
    };
    if let Some(len) = userinfo_len {
        rest = &rest[len..];
        offset += len;
    }

    // Host: `[v6]` or a name without `/`, `:`, `?`; then `:port` up to `/` or `?`.
    let host_len = if rest.starts_with('[') {
        rest.find(']').map(|i| i + 1).ok_or_else(not_url)?
    } else {
        rest.find(['/', ':', '?']).unwrap_or(rest.len())
    };
    let host = Some(&rest[..host_len])
        .filter(|h| !h.is_empty())
        .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_string());
    rest = &rest[host_len..];
    offset += host_len;
    let mut port = None;
    if let Some(after) = rest.strip_prefix(':') {
        let end = after.find(['/', '?']).unwrap_or(after.len());
        let text = &after[..end];
        if !text.is_empty() {
            port = Some(
                text.parse::<u16>()
                    .map_err(|_| PostgresUrlError::Port(text.to_string()))?,
            );
        }
        rest = &after[end..];
        offset += 1 + end;
    }
    let path_start = offset;
    let mut database = None;
    if let Some(after) = rest.strip_prefix('/') {
        let end = after.find('?').unwrap_or(after.len());
        database = Some(unquote(&after[..end])?);
        rest = &after[end..];
    }
    let query = match rest.strip_prefix('?') {
        Some(q) => parse_qsl(q)?,
        None if rest.is_empty() => Vec::new(),
        None => return Err(not_url()),
    };
    Ok(UrlParts {
        scheme: scheme.to_string(),
        username: username.map(unquote).transpose()?,
        password: password.map(unquote).transpose()?,
        host,
        port,
        database,
        query,
        path_start,
    })
}

/// Python's `parse_qsl` without blank values: `&`-separated `key=value` pairs, `+` as space.
fn parse_qsl(query: &str) -> Result<Vec<(String, String)>, PostgresUrlError> {
    let mut pairs = Vec::new();
    for field in query.split('&') {
        let Some((k, v)) = field.split_once('=') else {
            continue;
        };
        if v.is_empty() {
            continue;
        }
        pairs.push((
            unquote(&k.replace('+', " "))?,
            unquote(&v.replace('+', " "))?,
        ));
    }
    Ok(pairs)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes (a `%` not followed by two hex digits stays as it is, as in Python).
fn unquote(s: &str) -> Result<String, PostgresUrlError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).map_err(|_| PostgresUrlError::NotUtf8(s.to_string()))
}
