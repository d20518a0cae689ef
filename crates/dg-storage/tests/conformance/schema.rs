//! The instance's layout: opening a new instance (Dagster's revision, created once by concurrent
//! openers), refusing an older revision and a database that is not Dagster's without changing
//! them, persistence across reopening, PostgreSQL being unreachable, and a full disk (a quota, and
//! a real one).

use std::sync::Arc;
use std::time::Duration;

use dg_storage::{
    OpenOptions, PostgresConfig, PostgresStorage, RunFilter, SqliteConfig, SqliteStorage, Storage,
    StorageConfig, StorageError, HEAD_REVISION,
};

use crate::fixture::{RawConn, TestDb};
use crate::util::{all_events, logs, new_run, ts};

/// An older revision of Dagster's chain (1.7's).
const OLDER: &str = "7e2f3204cf8e";

pub async fn opens_a_new_instance_at_dagsters_revision(db: TestDb) -> TestDb {
    // Two processes opening a fresh instance at once: each file or table is made once.
    let options = OpenOptions::default();
    let (a, b) = tokio::join!(db.open_with(&options), db.open_with(&options));
    assert_eq!(a.unwrap().revision().await.unwrap(), HEAD_REVISION);
    assert_eq!(b.unwrap().revision().await.unwrap(), HEAD_REVISION);
    let s = db.open().await;
    assert_eq!(s.revision().await.unwrap(), HEAD_REVISION);
    if let StorageConfig::Sqlite(c) = &db.storage {
        let layout = c.layout();
        for file in [&layout.runs, &layout.index(), &layout.schedules] {
            assert!(file.is_file(), "{} exists", file.display());
        }
        // A run's shard is made with its first event.
        let run = s.create_run(&new_run("loc", &[])).await.unwrap().run_id;
        assert!(!layout.run_db(&run).unwrap().exists());
        s.append_events(&run, &logs(1..=1)).await.unwrap();
        assert!(layout.run_db(&run).unwrap().is_file());
    }
    db
}

/// Stamps `revision` on every database of the instance.
async fn stamp(db: &TestDb, revision: &str) {
    let sql = format!("UPDATE alembic_version SET version_num = '{revision}'");
    match &db.storage {
        StorageConfig::Sqlite(c) => {
            let layout = c.layout();
            for file in [
                layout.runs.clone(),
                layout.index(),
                layout.schedules.clone(),
            ] {
                let mut conn = RawConn::sqlite(&file).await;
                conn.exec(&sql).await;
            }
        }
        StorageConfig::Postgres(_) => db.raw_connection().await.exec(&sql).await,
    }
}

pub async fn refuses_an_older_revision_without_changing_it(db: TestDb) -> TestDb {
    let s = db.open().await;
    let run = s.create_run(&new_run("loc", &[])).await.unwrap();
    drop(s);
    stamp(&db, OLDER).await;
    let err = db.open_with(&OpenOptions::default()).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("dagster instance migrate"), "{text}");
    assert!(text.contains(OLDER), "{text}");
    assert!(dg_core::Diagnostic::hint(&err)
        .unwrap()
        .contains("dagster instance migrate"));
    // Nothing was migrated: the revision is still the old one; stamped back, all is there.
    stamp(&db, HEAD_REVISION).await;
    let s = db.open().await;
    assert_eq!(s.list_runs(&RunFilter::default()).await.unwrap(), vec![run]);
    stamp(&db, "abcdef012345").await;
    let err = db.open_with(&OpenOptions::default()).await.unwrap_err();
    assert!(err.to_string().contains("does not know"), "{err}");
    db
}

/// The tables of the PostgreSQL test database.
fn pg_tables(conn: &mut RawConn) -> crate::fixture::BoxFuture<'_, Vec<String>> {
    Box::pin(async move {
        let RawConn::Postgres(c) = conn else {
            unreachable!()
        };
        sqlx::query_scalar::<_, String>(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = 'public' ORDER BY 1",
        )
        .fetch_all(&mut *c)
        .await
        .unwrap()
    })
}

/// A database holding a previous dg's own schema is refused, and nothing is created in it.
pub async fn refuses_a_previous_dgs_database_without_touching_it(db: TestDb) -> TestDb {
    let mut conn = db.raw_connection().await;
    conn.exec(
        "CREATE TABLE dg_schema_migrations (version BIGINT PRIMARY KEY, name TEXT, applied_at DOUBLE PRECISION); \
         CREATE TABLE runs (id BIGSERIAL PRIMARY KEY, run_id TEXT UNIQUE, location TEXT)",
    )
    .await;
    let before = pg_tables(&mut conn).await;
    let err = db.open_with(&OpenOptions::default()).await.unwrap_err();
    assert!(matches!(err, StorageError::NotDagster { .. }), "{err:?}");
    let StorageConfig::Postgres(pg) = &db.storage else {
        unreachable!()
    };
    assert!(err.to_string().contains(&pg.database), "{err}");
    assert!(err.to_string().contains("dg_schema_migrations"), "{err}");
    assert!(dg_core::Diagnostic::hint(&err).is_some());
    assert_eq!(pg_tables(&mut conn).await, before, "nothing was created");
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
                e.event.kind = dg_storage::EventKind::Log {
                    level: dg_storage::LogLevel::Info,
                    message: format!("event {seq} {}", "x".repeat(4000)),
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
    let config = SqliteConfig::under(&disk.path().join("home"));
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
                e.event.kind = dg_storage::EventKind::Log {
                    level: dg_storage::LogLevel::Info,
                    message: format!("event {seq} {}", "x".repeat(4000)),
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
