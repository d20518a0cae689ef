//! Schema versions: migrating an empty database and one at the previous version (with data),
//! refusing a newer one, persistence across reopening, PostgreSQL being unreachable, and a full
//! disk (a quota, and a real one).

use std::sync::Arc;
use std::time::Duration;

use dg_storage::{
    AssetKey, OpenOptions, PostgresConfig, PostgresStorage, RunFilter, SqliteConfig, SqliteStorage,
    Storage, StorageError, LATEST_VERSION,
};

use crate::fixture::TestDb;
use crate::util::{all_events, logs, new_run, ts};

pub async fn migrates_an_empty_database(db: TestDb) -> TestDb {
    // Two processes opening a fresh instance at once: each migration is applied once.
    let options = OpenOptions::default();
    let (a, b) = tokio::join!(db.open_with(&options), db.open_with(&options));
    assert_eq!(a.unwrap().schema_version().await.unwrap(), LATEST_VERSION);
    assert_eq!(b.unwrap().schema_version().await.unwrap(), LATEST_VERSION);
    let s = db.open().await;
    assert_eq!(s.schema_version().await.unwrap(), LATEST_VERSION);
    db
}

pub async fn migrates_from_the_previous_version(db: TestDb) -> TestDb {
    let old = db
        .open_with(&OpenOptions {
            schema_version: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(old.schema_version().await.unwrap(), 1);
    // Data written at version 1, before the asset index existed.
    let run = old.create_run(&new_run("loc", &[])).await.unwrap().run_id;
    drop(old);
    let key = AssetKey::from_user_string("legacy");
    let body = |id: i64, p: &str| {
        format!(
            r#"{{"timestamp": {id}.0, "type": "ASSET_MATERIALIZATION", "asset_key": ["legacy"], "partition": "{p}", "metadata": {{}}}}"#
        )
    };
    let insert = |seq: i64, p: &str| {
        format!(
            "INSERT INTO event_logs (run_id, seq, event_type, timestamp, asset_key, partition_key, body) \
             VALUES ('{run}', {seq}, 'ASSET_MATERIALIZATION', {seq}.0, '{}', '{p}', '{}');",
            key.to_db_string(),
            body(seq, p)
        )
    };
    db.raw(&format!(
        "{}{}{}",
        insert(1, "x"),
        insert(2, "y"),
        insert(3, "x")
    ))
    .await;

    let s = db.open().await;
    assert_eq!(s.schema_version().await.unwrap(), LATEST_VERSION);
    let x = s
        .latest_materialization(&key, Some("x"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        x.seq,
        Some(3),
        "the migration filled the index from stored events"
    );
    assert_eq!(s.latest_materializations(&key).await.unwrap().len(), 2);
    // And the run goes on where it stopped.
    assert_eq!(s.next_seq(&run).await.unwrap(), 4);
    db
}

pub async fn refuses_a_newer_schema(db: TestDb) -> TestDb {
    drop(db.open().await);
    db.raw("INSERT INTO dg_schema_migrations (version, name, applied_at) VALUES (99, 'from the future', 0)").await;
    let err = db.open_with(&OpenOptions::default()).await.unwrap_err();
    match &err {
        StorageError::SchemaTooNew {
            found, supported, ..
        } => assert_eq!((*found, *supported), (99, LATEST_VERSION)),
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    assert!(dg_core::Diagnostic::hint(&err).is_some());
    db
}

pub async fn data_survives_reopening(db: TestDb) -> TestDb {
    let s = db.open().await;
    let run = s.create_run(&new_run("loc", &[("k", "v")])).await.unwrap();
    s.append_events(&run.run_id, &logs(1..=3)).await.unwrap();
    drop(s);
    let s = db.open().await;
    assert_eq!(
        s.list_runs(&RunFilter::default()).await.unwrap(),
        vec![run.clone()]
    );
    assert_eq!(all_events(s.as_ref(), &run.run_id).await.len(), 3);
    db
}

pub async fn unreachable_postgres_is_a_prompt_error(db: TestDb) -> TestDb {
    // A port nothing listens on: refused at once.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("postgres://postgres@127.0.0.1:{closed}/dagster");
    let mut config = PostgresConfig::from_url(&url, "storage.postgres.postgres_url").unwrap();
    config.connect_timeout = Duration::from_secs(2);
    let err = PostgresStorage::open(&config).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains(&format!("127.0.0.1:{closed}")), "{text}");
    assert!(text.contains("storage.postgres.postgres_url"), "{text}");
    assert!(
        matches!(err, StorageError::PostgresConnect { .. }),
        "{err:?}"
    );

    // A server that accepts connections and never answers: bounded by the connect timeout.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = silent.accept().await {
            held.push(sock);
        }
    });
    let mut config = PostgresConfig::from_url(
        &format!("postgres://postgres@127.0.0.1:{port}/dagster"),
        "k",
    )
    .unwrap();
    config.connect_timeout = Duration::from_secs(1);
    let err = PostgresStorage::open(&config).await.unwrap_err();
    assert!(
        matches!(&err, StorageError::PostgresConnect { port: p, .. } if *p == port),
        "{err:?}"
    );
    hold.abort();
    db
}

pub async fn full_disk_is_a_clean_error(db: TestDb) -> TestDb {
    // A quota of 64 pages (256 KiB): the schema fits, a few batches of big events do not.
    let options = OpenOptions {
        sqlite_max_pages: Some(64),
        ..Default::default()
    };
    let s = db.open_with(&options).await.unwrap();
    let run = s.create_run(&new_run("loc", &[])).await.unwrap().run_id;
    let mut stored = 0;
    let err = loop {
        let batch: Vec<_> = (stored + 1..=stored + 10)
            .map(|seq| {
                let mut e = crate::util::log(seq);
                e.event.kind = dg_storage::EventKind::Stdout {
                    text: "x".repeat(4000),
                };
                e
            })
            .collect();
        match s.append_events(&run, &batch).await {
            Ok(_) => stored += 10,
            Err(e) => break e,
        }
        assert!(stored < 10_000, "the quota was never hit");
    };
    assert!(matches!(err, StorageError::DiskFull { .. }), "{err:?}");
    assert!(stored > 0, "some batches fit before the quota");
    assert!(err.to_string().contains("is full"), "{err}");
    assert!(dg_core::Diagnostic::hint(&err)
        .unwrap()
        .contains("Free disk space"));
    // Everything acknowledged is there, nothing of the failed batch, and reads still work.
    assert_eq!(all_events(s.as_ref(), &run).await.len() as i64, stored);
    assert_eq!(s.next_seq(&run).await.unwrap(), stored + 1);
    // Small writes that fit still go through, on every connection of the pool: none is left
    // believing it is inside the transaction the full disk rolled back.
    for _ in 0..12 {
        s.set_run_status(&run, dg_storage::RunStatus::Starting, ts(1.0))
            .await
            .expect("a write that fits after a full disk");
    }
    db
}

/// A real full disk (a 2 MiB tmpfs; root only, skipped with its reason otherwise): the failing
/// batch is refused whole, the reserve next to the database is given back, and the writes that
/// record the failure then go through, on every connection of the pool.
#[allow(clippy::print_stderr)] // the reason a test is skipped
pub async fn a_real_full_disk_leaves_room_to_record_the_failure(db: TestDb) -> TestDb {
    let disk = match crate::tmpfs::Tmpfs::mount("2m") {
        Ok(disk) => disk,
        Err(reason) => {
            eprintln!("skipped sqlite::schema::a_real_full_disk_leaves_room_to_record_the_failure: {reason}");
            return db;
        }
    };
    let config = SqliteConfig {
        base_dir: disk.path().join("storage"),
    };
    let sqlite = SqliteStorage::open(&config).await.unwrap();
    let reserve = sqlite.reserve_path();
    assert!(
        reserve.is_file(),
        "the reserve is written when the storage opens"
    );
    let s: Arc<dyn Storage> = Arc::new(sqlite.clone());
    let run = s.create_run(&new_run("loc", &[])).await.unwrap().run_id;
    let mut stored = 0;
    let err = loop {
        let batch: Vec<_> = (stored + 1..=stored + 10)
            .map(|seq| {
                let mut e = crate::util::log(seq);
                e.event.kind = dg_storage::EventKind::Stdout {
                    text: "x".repeat(4000),
                };
                e
            })
            .collect();
        match s.append_events(&run, &batch).await {
            Ok(_) => stored += 10,
            Err(e) => break e,
        }
        assert!(stored < 10_000, "the disk never filled");
    };
    assert!(matches!(err, StorageError::DiskFull { .. }), "{err:?}");
    assert!(stored > 0, "some batches fit");
    assert!(!reserve.exists(), "the reserve is given back");
    assert_eq!(all_events(s.as_ref(), &run).await.len() as i64, stored);

    let failure = dg_storage::Event::now(dg_storage::EventKind::RunFailure {
        error: Some(dg_storage::ErrorInfo {
            message: err.to_string(),
            class_name: None,
            stack: Vec::new(),
        }),
    });
    s.append_host_event(&run, &failure)
        .await
        .expect("the failure is recorded");
    for _ in 0..12 {
        s.set_run_status(&run, dg_storage::RunStatus::Failure, ts(2.0))
            .await
            .expect("a status change after a full disk");
    }
    let events = all_events(s.as_ref(), &run).await;
    assert_eq!(events.len() as i64, stored + 1);
    sqlite.close().await;
    drop(s);
    db
}
