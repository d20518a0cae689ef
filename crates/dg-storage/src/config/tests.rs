//! Tests of `dagster.yaml` loading against the keys Dagster documents.

use std::path::Path;

use super::*;

fn load(text: &str, env: &[(&str, &str)]) -> Result<InstanceConfig> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(CONFIG_FILE), text).unwrap();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let lookup = move |var: &str| env.iter().find(|(k, _)| k == var).map(|(_, v)| v.clone());
    InstanceConfig::load_with_env(dir.path(), &lookup).map(|mut c| {
        // Paths are under the temp dir; make them comparable.
        c.home = Path::new("/h").to_path_buf();
        if let StorageConfig::Sqlite(s) = &mut c.storage {
            for d in [&mut s.runs_dir, &mut s.event_log_dir, &mut s.schedules_dir] {
                if let Ok(rest) = d.strip_prefix(dir.path()) {
                    *d = Path::new("/h").join(rest);
                }
            }
        }
        c
    })
}

fn pg(config: &InstanceConfig) -> &PostgresConfig {
    match &config.storage {
        StorageConfig::Postgres(p) => p,
        other => panic!("expected postgres, got {other:?}"),
    }
}

#[test]
fn missing_file_is_sqlite_in_the_home_as_dagster() {
    let dir = tempfile::tempdir().unwrap();
    let config = InstanceConfig::load(dir.path()).unwrap();
    assert_eq!(config.file, None);
    assert_eq!(
        config.storage,
        StorageConfig::Sqlite(SqliteConfig {
            runs_dir: dir.path().join("history"),
            event_log_dir: dir.path().join("history/runs"),
            schedules_dir: dir.path().join("schedules"),
        })
    );
}

#[test]
fn empty_and_comment_only_files_are_the_default() {
    let config = load("# nothing here\n\n", &[]).unwrap();
    assert_eq!(
        config.storage,
        StorageConfig::Sqlite(SqliteConfig::under(Path::new("/h")))
    );
}

#[test]
fn sqlite_base_dir_from_env_relative_to_home() {
    let config = load(
        "storage:\n  sqlite:\n    base_dir:\n      env: MY_DIR\n",
        &[("MY_DIR", "data")],
    )
    .unwrap();
    assert_eq!(
        config.storage,
        StorageConfig::Sqlite(SqliteConfig {
            runs_dir: "/h/data/history".into(),
            event_log_dir: "/h/data/history/runs".into(),
            schedules_dir: "/h/data/schedules".into(),
        })
    );
}

#[test]
fn postgres_url() {
    let config = load(
        "storage:\n  postgres:\n    postgres_url: postgresql://u:p@db.example:6543/dag\n",
        &[],
    )
    .unwrap();
    let p = pg(&config);
    assert_eq!(
        (p.host.as_str(), p.port, p.database.as_str()),
        ("db.example", 6543, "dag")
    );
    assert_eq!(p.key, "storage.postgres.postgres_url");
    assert!(
        !format!("{p:?}").contains(":p@"),
        "Debug must not show the password"
    );
}

#[test]
fn postgres_db_with_env_values_and_escaping() {
    let text = "storage:
  postgres:
    postgres_db:
      username: {env: PGU}
      password: {env: PGP}
      hostname: localhost
      db_name: dagster
      port: {env: PGPORT}
      params:
        sslmode: disable
";
    let config = load(
        text,
        &[("PGU", "me"), ("PGP", "p@ss/word"), ("PGPORT", "5433")],
    )
    .unwrap();
    let p = pg(&config);
    // dagster-postgres quotes the password with Python's `quote`, which keeps `/`.
    assert_eq!(
        p.url,
        "postgresql://me:p%40ss/word@localhost:5433/dagster?sslmode=disable"
    );
    let options = p.connect_options().unwrap();
    assert_eq!(options.get_username(), "me");
    assert_eq!(options.get_database(), Some("dagster"));
    assert_eq!(p.port, 5433);
    assert_eq!(p.key, "storage.postgres.postgres_db");
}

#[test]
fn missing_env_var_names_key_var_and_line() {
    let text = "storage:\n  postgres:\n    postgres_url:\n      env: NOPE_URL\n";
    let err = load(text, &[]).unwrap_err();
    match err {
        StorageError::EnvVarMissing { line, key, var, .. } => {
            assert_eq!(
                (line, key.as_str(), var.as_str()),
                (Some(4), "storage.postgres.postgres_url", "NOPE_URL")
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn unknown_top_level_key_is_an_error_with_line() {
    let err = load(
        "telemetry:\n  enabled: false\nstorrage:\n  sqlite: {}\n",
        &[],
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("storrage"), "{text}");
    assert!(
        matches!(err, StorageError::ConfigInvalid { line: Some(3), .. }),
        "{err:?}"
    );
}

#[test]
fn other_sections_are_kept_as_json() {
    let config = load(
        "run_monitoring:\n  enabled: true\n  poll_interval_seconds: 30\n",
        &[],
    )
    .unwrap();
    assert_eq!(
        config.sections["run_monitoring"],
        serde_json::json!({"enabled": true, "poll_interval_seconds": 30})
    );
}

#[test]
fn mysql_is_unsupported() {
    let err = load("storage:\n  mysql:\n    mysql_url: mysql://x\n", &[]).unwrap_err();
    assert!(
        matches!(err, StorageError::UnsupportedStorage { ref key, .. } if key == "storage.mysql"),
        "{err:?}"
    );
}

#[test]
fn two_storage_kinds_are_refused() {
    let err = load(
        "storage:\n  sqlite: {base_dir: a}\n  postgres: {postgres_url: 'postgresql://x/y'}\n",
        &[],
    )
    .unwrap_err();
    assert!(err.to_string().contains("exactly one"), "{err}");
}

#[test]
fn legacy_run_storage_classes() {
    let text = "run_storage:
  module: dagster_postgres.run_storage
  class: PostgresRunStorage
  config:
    postgres_url: postgresql://u@h:5432/d
event_log_storage:
  module: dagster_postgres.event_log
  class: PostgresEventLogStorage
  config:
    postgres_url: postgresql://u@h:5432/d
";
    let config = load(text, &[]).unwrap();
    assert_eq!(pg(&config).key, "run_storage.config.postgres_url");

    // Each SQLite class names its own folder, as Dagster's classes take it; a missing entry is
    // Dagster's default folder under the home.
    let text = "run_storage:\n  module: dagster.core.storage.runs\n  class: SqliteRunStorage\n  config:\n    base_dir: /x/r\nevent_log_storage:\n  module: dagster.core.storage.event_log\n  class: SqliteEventLogStorage\n  config:\n    base_dir: e\n";
    let config = load(text, &[]).unwrap();
    assert_eq!(
        config.storage,
        StorageConfig::Sqlite(SqliteConfig {
            runs_dir: "/x/r".into(),
            event_log_dir: "/h/e".into(),
            schedules_dir: "/h/schedules".into(),
        })
    );
    let layout = match &config.storage {
        StorageConfig::Sqlite(s) => s.layout(),
        _ => unreachable!(),
    };
    assert_eq!(layout.runs, Path::new("/x/r/runs.db"));
    assert_eq!(layout.index(), Path::new("/h/e/index.db"));

    let mixed = "run_storage:\n  module: m\n  class: SqliteRunStorage\n  config:\n    base_dir: /x\nevent_log_storage:\n  module: dagster_postgres.event_log\n  class: PostgresEventLogStorage\n  config:\n    postgres_url: postgresql://u@h:5432/d\n";
    assert!(load(mixed, &[])
        .unwrap_err()
        .to_string()
        .contains("mix SQLite and PostgreSQL"));
}

#[test]
fn storage_and_legacy_keys_conflict() {
    let text = "storage:\n  sqlite: {}\nrun_storage:\n  module: m\n  class: SqliteRunStorage\n";
    assert!(load(text, &[])
        .unwrap_err()
        .to_string()
        .contains("cannot be combined"));
}

#[test]
fn with_database_replaces_the_path() {
    let p = PostgresConfig::from_url(
        "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
        "k",
    )
    .unwrap();
    let q = p.with_database("dg_test_1");
    assert_eq!(
        q.url,
        "postgres://postgres@127.0.0.1:5432/dg_test_1?sslmode=disable"
    );
    assert_eq!(q.database, "dg_test_1");
}
