//! One fresh database per test: a temporary folder for SQLite, a new database (dropped afterwards,
//! also when the test panics) on the PostgreSQL server named by `DG_TEST_POSTGRES_URL`.

use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;

use dg_core::env::DG_TEST_POSTGRES_URL;
use dg_storage::{
    InstanceConfig, OpenOptions, PostgresConfig, PostgresStorage, SqliteConfig, SqliteStorage,
    Storage, StorageConfig,
};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection, Executor};

/// The admin URL used when `DG_TEST_POSTGRES_URL` is not set.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Which backend a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

pub fn admin_url() -> String {
    std::env::var(DG_TEST_POSTGRES_URL).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_string())
}

/// A fresh, empty database of one backend.
pub struct TestDb {
    /// Holds the SQLite folder (and scratch files) until the test ends.
    pub dir: tempfile::TempDir,
    /// The storage config to open.
    pub storage: StorageConfig,
    pg_name: Option<String>,
}

impl TestDb {
    pub async fn create(backend: Backend) -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => {
                let storage = StorageConfig::Sqlite(SqliteConfig::under(&dir.path().join("home")));
                TestDb {
                    dir,
                    storage,
                    pg_name: None,
                }
            }
            Backend::Postgres => {
                let admin = PostgresConfig::from_url(&admin_url(), DG_TEST_POSTGRES_URL)
                    .expect("valid admin URL");
                let name = format!("dg_test_{}", uuid::Uuid::new_v4().simple());
                admin_exec(&format!("CREATE DATABASE {name}")).await;
                let storage = StorageConfig::Postgres(admin.with_database(&name));
                TestDb {
                    dir,
                    storage,
                    pg_name: Some(name),
                }
            }
        }
    }

    pub fn instance(&self) -> InstanceConfig {
        let mut config = InstanceConfig::default_for(self.dir.path());
        config.storage = self.storage.clone();
        config
    }

    /// Opens the storage (a new pool each time, as another process would).
    pub async fn open(&self) -> Arc<dyn Storage> {
        dg_storage::open(&self.instance())
            .await
            .expect("open storage")
    }

    /// Opens with options, returning the error instead of panicking.
    pub async fn open_with(&self, options: &OpenOptions) -> dg_storage::Result<Arc<dyn Storage>> {
        Ok(match &self.storage {
            StorageConfig::Sqlite(c) => Arc::new(SqliteStorage::open_with(c, options).await?),
            StorageConfig::Postgres(c) => Arc::new(PostgresStorage::open_with(c, options).await?),
        })
    }

    /// Arguments telling a child process how to reach this database.
    pub fn child_args(&self) -> Vec<String> {
        match &self.storage {
            StorageConfig::Sqlite(c) => vec![
                "sqlite".into(),
                c.runs_dir.parent().expect("base").display().to_string(),
            ],
            StorageConfig::Postgres(c) => vec!["postgres".into(), c.url.clone()],
        }
    }

    /// A plain connection to the test database, outside any storage: a second writer that takes
    /// locks by hand. On SQLite it is `history/runs.db`, whose write lock every write of a run
    /// needs (a shard's connections attach it).
    pub fn raw_connection(&self) -> BoxFuture<'static, RawConn> {
        let storage = self.storage.clone();
        Box::pin(async move {
            match storage {
                StorageConfig::Sqlite(c) => {
                    let options = SqliteConnectOptions::new().filename(c.layout().runs);
                    RawConn::Sqlite(options.connect().await.expect("raw sqlite connection"))
                }
                StorageConfig::Postgres(c) => {
                    let options = PgConnectOptions::from_str(&c.url).expect("test URL");
                    RawConn::Postgres(options.connect().await.expect("raw postgres connection"))
                }
            }
        })
    }

    /// The `(dagster_event_type, event)` columns of a run's stored events, in storage order, read
    /// by hand (the run's shard on SQLite).
    pub fn event_texts(&self, run_id: &str) -> BoxFuture<'static, Vec<(Option<String>, String)>> {
        let storage = self.storage.clone();
        let run_id = run_id.to_string();
        Box::pin(async move {
            let sql =
                "SELECT dagster_event_type, event FROM event_logs WHERE run_id = $1 ORDER BY id";
            match storage {
                StorageConfig::Sqlite(c) => {
                    let path = c.layout().run_db(&run_id).expect("shard path");
                    let RawConn::Sqlite(mut conn) = RawConn::sqlite(&path).await else {
                        unreachable!()
                    };
                    sqlx::query_as(sql)
                        .bind(&run_id)
                        .fetch_all(&mut conn)
                        .await
                        .expect("read events")
                }
                StorageConfig::Postgres(c) => {
                    let options = PgConnectOptions::from_str(&c.url).expect("test URL");
                    let mut conn = options.connect().await.expect("raw postgres connection");
                    sqlx::query_as(sql)
                        .bind(&run_id)
                        .fetch_all(&mut conn)
                        .await
                        .expect("read events")
                }
            }
        })
    }

    /// The `(last_run_id, last_materialization)` of an `asset_keys` row (key as Dagster writes it,
    /// `["a"]`), read by hand (`index.db` on SQLite).
    pub fn asset_key_row(
        &self,
        key: &str,
    ) -> BoxFuture<'static, Option<(Option<String>, Option<String>)>> {
        let storage = self.storage.clone();
        let key = key.to_string();
        Box::pin(async move {
            let sql =
                "SELECT last_run_id, last_materialization FROM asset_keys WHERE asset_key = $1";
            match storage {
                StorageConfig::Sqlite(c) => {
                    let RawConn::Sqlite(mut conn) = RawConn::sqlite(&c.layout().index()).await
                    else {
                        unreachable!()
                    };
                    sqlx::query_as(sql)
                        .bind(&key)
                        .fetch_optional(&mut conn)
                        .await
                        .expect("read")
                }
                StorageConfig::Postgres(c) => {
                    let options = PgConnectOptions::from_str(&c.url).expect("test URL");
                    let mut conn = options.connect().await.expect("raw postgres connection");
                    sqlx::query_as(sql)
                        .bind(&key)
                        .fetch_optional(&mut conn)
                        .await
                        .expect("read")
                }
            }
        })
    }

    /// PostgreSQL only: the ids of server processes of this database that wait for a lock.
    pub fn pg_lock_waiters(conn: &mut RawConn) -> BoxFuture<'_, Vec<i32>> {
        Box::pin(async move {
            let RawConn::Postgres(conn) = conn else {
                panic!("lock waiters are a PostgreSQL question")
            };
            sqlx::query_scalar(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
                 AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
            )
            .fetch_all(&mut *conn)
            .await
            .expect("read pg_stat_activity")
        })
    }

    /// Waits until some storage connection is blocked on a lock that another connection holds,
    /// and returns its server process id: polled on PostgreSQL (at most 5 minutes); on SQLite,
    /// whose busy wait cannot be observed from outside, a pause long enough for the waiter to get
    /// there on a loaded machine (`None`).
    pub fn wait_for_lock_waiter(watcher: &mut RawConn) -> BoxFuture<'_, Option<i32>> {
        Box::pin(async move {
            if matches!(watcher, RawConn::Sqlite(_)) {
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                return None;
            }
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
            loop {
                if let Some(&pid) = Self::pg_lock_waiters(watcher).await.first() {
                    return Some(pid);
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "no connection ever waited for the lock"
                );
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        })
    }

    async fn destroy(self) {
        if let Some(name) = &self.pg_name {
            admin_exec(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
        }
    }
}

/// A connection of either backend for hand-written SQL.
pub enum RawConn {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl RawConn {
    /// A plain connection to one SQLite file.
    pub fn sqlite(path: &std::path::Path) -> BoxFuture<'static, RawConn> {
        let options = SqliteConnectOptions::new().filename(path);
        Box::pin(
            async move { RawConn::Sqlite(options.connect().await.expect("raw sqlite connection")) },
        )
    }

    /// Runs `sql` (statements without parameters). Boxed with `Send` spelled out: sqlx's
    /// `Executor` impls for `&mut Connection` otherwise trip the compiler's lifetime-generic
    /// `Send` check of the test futures.
    pub fn exec<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let done = match self {
                Self::Sqlite(c) => c.execute(sql).await.map(drop),
                Self::Postgres(c) => c.execute(sql).await.map(drop),
            };
            done.unwrap_or_else(|e| panic!("{sql}: {e}"));
        })
    }

    /// `BEGIN IMMEDIATE` on SQLite (the write lock), `BEGIN` on PostgreSQL.
    pub fn begin_write(&mut self) -> BoxFuture<'_, ()> {
        let sql = match self {
            Self::Sqlite(_) => "BEGIN IMMEDIATE",
            Self::Postgres(_) => "BEGIN",
        };
        self.exec(sql)
    }
}

/// A boxed `Send` future.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Reopens storage from [`TestDb::child_args`] (in a child process).
pub async fn open_from_args(kind: &str, target: &str) -> Arc<dyn Storage> {
    let storage = match kind {
        "sqlite" => StorageConfig::Sqlite(SqliteConfig::under(std::path::Path::new(target))),
        _ => StorageConfig::Postgres(PostgresConfig::from_url(target, "child").expect("url")),
    };
    let mut config = InstanceConfig::default_for(std::path::Path::new("/nonexistent"));
    config.storage = storage;
    dg_storage::open(&config)
        .await
        .expect("child opens storage")
}

async fn admin_exec(sql: &str) {
    let options = PgConnectOptions::from_str(&admin_url()).expect("admin URL");
    let mut conn = options.connect().await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL at `{}` is unreachable ({e}); start it, point `{DG_TEST_POSTGRES_URL}` at one, \
             or set `DG_TEST_SKIP_POSTGRES=1` to skip the PostgreSQL tests",
            admin_url()
        )
    });
    sqlx::raw_sql(sql).execute(&mut conn).await.expect(sql);
    conn.close().await.ok();
}

/// Runs `test` against a fresh database of `backend` on its own runtime, dropping the database
/// afterwards even when the test panics (the panic is then re-raised for the harness).
pub fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(TestDb) -> Fut + Send + 'static,
    Fut: Future<Output = TestDb> + Send + 'static,
{
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let db = TestDb::create(backend).await;
        let storage = db.storage.clone();
        let pg_name = db.pg_name.clone();
        match tokio::spawn(test(db)).await {
            Ok(db) => db.destroy().await,
            Err(e) => {
                if let (StorageConfig::Postgres(_), Some(name)) = (storage, pg_name) {
                    admin_exec(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                }
                match e.try_into_panic() {
                    Ok(panic) => std::panic::resume_unwind(panic),
                    Err(e) => panic!("test task failed: {e}"),
                }
            }
        }
    });
}
