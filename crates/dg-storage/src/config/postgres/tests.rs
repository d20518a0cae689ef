//! PostgreSQL settings read as Dagster reads them. The expected URLs and keyword sets are what
//! dagster-postgres' `get_conn_string` and SQLAlchemy's psycopg2 dialect produce (observed with
//! dagster 1.13.27).

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::postgres::PgSslMode;

use super::params::{RootCert, SslMode};
use super::*;
use crate::config::{InstanceConfig, StorageConfig, CONFIG_FILE};
use crate::error::StorageError;

fn parse(url: &str) -> Result<PostgresConfig, PostgresUrlError> {
    PostgresConfig::parse(url, "k", &|_| None)
}

/// [`parse`] with `HOME` = `home` and other variables from `vars`.
fn parse_env(
    url: &str,
    home: &Path,
    vars: &[(&str, &str)],
) -> Result<PostgresConfig, PostgresUrlError> {
    let home = home.to_string_lossy().to_string();
    let env = |var: &str| match var {
        "HOME" => Some(home.clone()),
        _ => vars
            .iter()
            .find(|(k, _)| *k == var)
            .map(|(_, v)| v.to_string()),
    };
    PostgresConfig::parse(url, "k", &env)
}

fn load(text: &str, home: &Path) -> crate::error::Result<PostgresConfig> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(CONFIG_FILE), text).unwrap();
    let home = home.to_string_lossy().to_string();
    let env = move |var: &str| (var == "HOME").then(|| home.clone());
    match InstanceConfig::load_with_env(dir.path(), &env)?.storage {
        StorageConfig::Postgres(p) => Ok(p),
        other => panic!("expected postgres, got {other:?}"),
    }
}

/// `PgSslMode` has no `PartialEq`.
fn ssl(mode: PgSslMode) -> String {
    format!("{mode:?}")
}

fn param_error(result: Result<PostgresConfig, PostgresUrlError>) -> (String, String) {
    match result {
        Err(PostgresUrlError::Param { name, message }) => (name, message),
        other => panic!("expected a parameter error, got {other:?}"),
    }
}

#[test]
fn postgres_db_url_is_dagsters_text() {
    let text = "storage:
  postgres:
    postgres_db:
      username: me
      password: 'p@ss/word:x%'
      hostname: localhost
      db_name: dagster
      port: 5433
      params:
        sslmode: require
        sslrootcert: /etc/ca dir/ca.pem
        connect_timeout: 10
        application_name: a&b=c
";
    let p = load(text, Path::new("/nonexistent")).unwrap();
    assert_eq!(
        p.url,
        "postgresql://me:p%40ss/word%3Ax%25@localhost:5433/dagster?sslmode=require\
         &sslrootcert=%2Fetc%2Fca%20dir%2Fca.pem&connect_timeout=10&application_name=a%26b%3Dc"
    );
    assert_eq!(p.params.password.as_deref(), Some("p@ss/word:x%"));
    assert_eq!(
        p.params.root_cert,
        Some(RootCert::File("/etc/ca dir/ca.pem".into()))
    );
    // libpq: `require` with a root certificate verifies the CA.
    assert_eq!(p.params.ssl_mode, SslMode::VerifyCa);
    assert_eq!(p.connect_timeout, Duration::from_secs(10));
    let options = p.connect_options().unwrap();
    assert_eq!(ssl(options.get_ssl_mode()), ssl(PgSslMode::VerifyCa));
    assert_eq!(options.get_application_name(), Some("a&b=c"));
    assert_eq!(
        (options.get_host(), options.get_port()),
        ("localhost", 5433)
    );
}

#[test]
fn urls_split_as_sqlalchemy_splits_them() {
    let p = parse("postgresql://us%3Ar:pa@ss@h/d").unwrap();
    assert_eq!(p.params.user.as_deref(), Some("us:r"));
    assert_eq!(p.params.password.as_deref(), Some("pa"));
    assert_eq!(p.params.host.as_deref(), Some("ss@h"));

    let p = parse("postgresql://u@[::1]:5433/d?application_name=x+y%21").unwrap();
    assert_eq!((p.host.as_str(), p.port), ("::1", 5433));
    assert_eq!(p.params.application_name.as_deref(), Some("x y!"));

    // A blank value is dropped, as by `parse_qsl`.
    let p = parse("postgresql://u:p@h/db?sslmode=").unwrap();
    assert_eq!(p.params.ssl_mode, SslMode::Prefer);

    let p = parse("postgresql:///db?host=/var/run/postgresql").unwrap();
    assert_eq!(p.host, "/var/run/postgresql");
    assert_eq!(p.database, "db");
}

#[test]
fn drivers_without_libpq_parameters_are_refused() {
    assert_eq!(
        parse("postgresql+asyncpg://u@h/d").unwrap_err(),
        PostgresUrlError::Scheme("postgresql+asyncpg".into())
    );
    assert!(parse("postgresql+psycopg://u@h/d").is_ok());
    assert_eq!(parse("u@h/d").unwrap_err(), PostgresUrlError::NotAUrl);
    assert_eq!(
        parse("postgresql://u@h:99999/d").unwrap_err(),
        PostgresUrlError::Port("99999".into())
    );
}

#[test]
fn every_ssl_mode() {
    let modes = [
        ("disable", PgSslMode::Disable),
        ("allow", PgSslMode::Prefer),
        ("prefer", PgSslMode::Prefer),
        ("require", PgSslMode::Require),
    ];
    for (mode, expected) in modes {
        let p = parse(&format!("postgresql://u@h/d?sslmode={mode}")).unwrap();
        assert_eq!(
            ssl(p.connect_options().unwrap().get_ssl_mode()),
            ssl(expected),
            "{mode}"
        );
    }
    for (mode, expected) in [
        ("verify-ca", PgSslMode::VerifyCa),
        ("verify-full", PgSslMode::VerifyFull),
    ] {
        let p = parse(&format!(
            "postgresql://u@h/d?sslmode={mode}&sslrootcert=/ca.pem"
        ))
        .unwrap();
        assert_eq!(
            ssl(p.connect_options().unwrap().get_ssl_mode()),
            ssl(expected),
            "{mode}"
        );
        let (name, message) = param_error(parse(&format!("postgresql://u@h/d?sslmode={mode}")));
        assert_eq!(name, "sslrootcert", "{message}");
        assert!(message.contains("`system`"), "{message}");
    }
    let (name, message) = param_error(parse("postgresql://u@h/d?sslmode=verify"));
    assert_eq!(name, "sslmode");
    assert!(message.contains("`verify-full`"), "{message}");
}

#[test]
fn system_roots_mean_verify_full() {
    let p = parse("postgresql://u@h/d?sslrootcert=system").unwrap();
    assert_eq!(p.params.ssl_mode, SslMode::VerifyFull);
    assert_eq!(p.params.root_cert, Some(RootCert::System));
    let (name, _) = param_error(parse(
        "postgresql://u@h/d?sslrootcert=system&sslmode=require",
    ));
    assert_eq!(name, "sslmode");
}

#[test]
fn default_certificates_under_home_dot_postgresql() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join(".postgresql");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("root.crt"), "x").unwrap();
    let p = parse_env("postgresql://u@h/d?sslmode=require", home.path(), &[]).unwrap();
    assert_eq!(p.params.ssl_mode, SslMode::VerifyCa);
    assert_eq!(
        p.params.root_cert,
        Some(RootCert::File(dir.join("root.crt")))
    );
    assert_eq!(p.params.client_cert, None);

    std::fs::write(dir.join("postgresql.crt"), "x").unwrap();
    let (name, _) = param_error(parse_env("postgresql://u@h/d", home.path(), &[]));
    assert_eq!(name, "sslkey");
    std::fs::write(dir.join("postgresql.key"), "x").unwrap();
    let p = parse_env("postgresql://u@h/d", home.path(), &[]).unwrap();
    assert_eq!(
        p.params.client_cert,
        Some((dir.join("postgresql.crt"), dir.join("postgresql.key")))
    );
    // `sslmode=disable` and `sslcertmode=disable` use none of them.
    let p = parse_env("postgresql://u@h/d?sslmode=disable", home.path(), &[]).unwrap();
    assert_eq!((p.params.root_cert, p.params.client_cert), (None, None));
    let p = parse_env("postgresql://u@h/d?sslcertmode=disable", home.path(), &[]).unwrap();
    assert_eq!(p.params.client_cert, None);
}

#[test]
fn client_certificate_pairs() {
    let p = parse("postgresql://u@h/d?sslcert=/c.pem&sslkey=/k.pem").unwrap();
    assert_eq!(
        p.params.client_cert,
        Some((PathBuf::from("/c.pem"), PathBuf::from("/k.pem")))
    );
    assert_eq!(
        param_error(parse("postgresql://u@h/d?sslkey=/k.pem")).0,
        "sslcert"
    );
}

#[test]
fn connect_timeout_as_libpq() {
    let timeout = |v: &str| {
        parse(&format!("postgresql://u@h/d?connect_timeout={v}"))
            .unwrap()
            .connect_timeout
    };
    assert_eq!(timeout("1"), Duration::from_secs(2));
    assert_eq!(timeout("30"), Duration::from_secs(30));
    assert!(timeout("0") > Duration::from_secs(100 * 365 * 86_400));
    assert_eq!(
        parse("postgresql://u@h/d").unwrap().connect_timeout,
        DEFAULT_CONNECT_TIMEOUT
    );
    assert_eq!(
        param_error(parse("postgresql://u@h/d?connect_timeout=2.5")).0,
        "connect_timeout"
    );
}

#[test]
fn accepted_and_refused_keywords() {
    for ok in [
        "options=-c%20search_path%3Ddg",
        "client_encoding=UTF8",
        "gssencmode=disable",
        "channel_binding=prefer",
        "target_session_attrs=any",
        "ssl_min_protocol_version=TLSv1.2",
        "fallback_application_name=dg",
        "hostaddr=h",
    ] {
        parse(&format!("postgresql://u@h/d?{ok}")).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    let p = parse("postgresql://u@h/d?options=-c%20search_path%3Ddg").unwrap();
    assert_eq!(
        p.connect_options().unwrap().get_options(),
        Some("-c search_path=dg")
    );
    for (bad, hint) in [
        ("sslpassword=x", "unencrypted"),
        ("keepalives=1", "keepalives"),
        ("sslcrl=/x", "revocation"),
        ("target_session_attrs=read-write", "`any`"),
        ("client_encoding=LATIN1", "UTF8"),
        ("hostaddr=10.0.0.1", "only `host`"),
        ("host=a,b", "one"),
        ("sslmode=require&sslmode=disable", "twice"),
        ("sslmodee=require", "not a libpq connection parameter"),
    ] {
        let (_, message) = param_error(parse(&format!("postgresql://u@h/d?{bad}")));
        assert!(message.contains(hint), "{bad}: {message}");
    }
}

#[test]
fn refused_params_name_the_dagster_yaml_key_and_line() {
    let text = "storage:
  postgres:
    postgres_db:
      username: me
      hostname: h
      db_name: d
      params:
        sslmode: require
        sslpassword: secret
";
    let err = load(text, Path::new("/nonexistent")).unwrap_err();
    let StorageError::ConfigInvalid { line, message, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*line, Some(9));
    assert!(
        message.starts_with("`storage.postgres.postgres_db.params.sslpassword` is not supported"),
        "{message}"
    );
    let text = "storage:\n  postgres:\n    postgres_url: postgresql://u@h/d?sslmode=verify-full&sslcrl=/x\n";
    let err = load(text, Path::new("/nonexistent")).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("`storage.postgres.postgres_url`: parameter `sslcrl`"),
        "{text}"
    );
    assert!(text.contains("dagster.yaml"), "{text}");
}

#[test]
fn python_str_of_yaml_values() {
    let v = |s: &str| python_str(&serde_norway::from_str(s).unwrap());
    assert_eq!(v("true").as_deref(), Some("True"));
    assert_eq!(v("10").as_deref(), Some("10"));
    assert_eq!(v("1.0").as_deref(), Some("1.0"));
    assert_eq!(v("~").as_deref(), Some("None"));
    assert_eq!(v("[1]"), None);
}

#[test]
fn with_database_keeps_the_query() {
    let p = parse("postgresql://me:p%40ss/word@h:1/db?sslmode=disable").unwrap();
    let q = p.with_database("other");
    assert_eq!(
        q.url,
        "postgresql://me:p%40ss/word@h:1/other?sslmode=disable"
    );
    assert_eq!(q.connect_options().unwrap().get_database(), Some("other"));
    let p = parse("postgresql://h").unwrap().with_database("x");
    assert_eq!(p.url, "postgresql://h/x");
}

#[test]
fn libpq_variables_fill_keywords_not_given() {
    let vars = [
        ("PGSSLMODE", "verify-full"),
        ("PGSSLROOTCERT", "/env/ca.pem"),
        ("PGCONNECT_TIMEOUT", "7"),
    ];
    let p = parse_env("postgresql://u@h/d", Path::new("/nonexistent"), &vars).unwrap();
    assert_eq!(p.params.ssl_mode, SslMode::VerifyFull);
    assert_eq!(
        p.params.root_cert,
        Some(RootCert::File("/env/ca.pem".into()))
    );
    assert_eq!(p.connect_timeout, Duration::from_secs(7));
    // The URL wins over the environment.
    let p = parse_env(
        "postgresql://u@h/d?sslmode=disable",
        Path::new("/nonexistent"),
        &vars,
    )
    .unwrap();
    assert_eq!(p.params.ssl_mode, SslMode::Disable);
    // A bad value names the variable it came from.
    let (name, message) = param_error(parse_env(
        "postgresql://u@h/d",
        Path::new("/nonexistent"),
        &[("PGSSLMODE", "always")],
    ));
    assert_eq!(name, "sslmode");
    assert!(message.contains("`PGSSLMODE`"), "{message}");
}
