//! PostgreSQL for fault tests: a fresh database on the shared test server (so that ending "the
//! run's connections" ends nobody else's), a second connection that holds a run's lock so that the
//! run's next write certainly waits inside its transaction, and a private server of our own to
//! restart or stop (the shared one on 5432 is never touched).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::time::{Duration, Instant};

use dg_core::env as vars;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection, Executor};

/// The admin URL of the shared server used when `DG_TEST_POSTGRES_URL` is not set.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The URL of the same server with another database.
fn with_database(url: &str, database: &str) -> String {
    let (server, _) = url.rsplit_once('/').expect("a URL with a database");
    let query = url
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{server}/{database}{query}")
}

async fn connect(url: &str) -> PgConnection {
    PgConnectOptions::from_str(url)
        .expect("a PostgreSQL URL")
        .connect()
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at `{url}` is unreachable: {e}"))
}

/// A database created for one test and dropped (with its connections) when dropped.
pub struct FreshDatabase {
    admin_url: String,
    /// Its name.
    pub name: String,
    /// A URL to it.
    pub url: String,
}

impl FreshDatabase {
    /// Creates a database on the server of `admin_url` (default: the shared test server).
    pub async fn create(admin_url: Option<&str>) -> FreshDatabase {
        let admin_url = admin_url.map(str::to_owned).unwrap_or_else(|| {
            std::env::var(vars::DG_TEST_POSTGRES_URL).unwrap_or_else(|_| DEFAULT_ADMIN_URL.into())
        });
        let name = format!("dg_runs_{}", dg_storage::new_run_id().replace('-', ""));
        let mut admin = connect(&admin_url).await;
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create the test database");
        let _ = admin.close().await;
        let url = with_database(&admin_url, &name);
        FreshDatabase {
            admin_url,
            name,
            url,
        }
    }

    /// Ends every server process connected to this database (but the caller's); returns how many.
    pub async fn terminate_connections(&self) -> i64 {
        let mut admin = connect(&self.admin_url).await;
        let ended: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()) t WHERE ended",
        )
        .bind(&self.name)
        .fetch_one(&mut admin)
        .await
        .expect("pg_terminate_backend");
        let _ = admin.close().await;
        ended
    }

    /// Takes the lock of run `run_id`'s row from a second connection, so that the run's next
    /// write waits for it; [`LockHolder::end_waiter`] then ends that write's server process.
    pub async fn lock_run(&self, run_id: &str) -> LockHolder {
        let mut conn = connect(&self.url).await;
        conn.execute("BEGIN").await.expect("BEGIN");
        sqlx::query("SELECT 1 FROM runs WHERE run_id = $1 FOR UPDATE")
            .bind(run_id)
            .fetch_one(&mut conn)
            .await
            .expect("lock the run's row");
        LockHolder {
            conn,
            watcher: connect(&self.url).await,
        }
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime: a thread of its own may start another.
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                if let Ok(mut admin) = PgConnectOptions::from_str(&admin_url)
                    .expect("URL")
                    .connect()
                    .await
                {
                    let _ = admin
                        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                        .await;
                }
            });
        })
        .join();
    }
}

/// A transaction holding one run's row lock.
pub struct LockHolder {
    conn: PgConnection,
    watcher: PgConnection,
}

impl LockHolder {
    /// Waits (at most 5 minutes) until a connection waits for this lock, ends its server process,
    /// and releases the lock. The waiting write fails in the middle of its transaction.
    pub async fn end_waiter(mut self) {
        let pid = self.wait_for_waiter().await;
        let ended: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
            .bind(pid)
            .fetch_one(&mut self.watcher)
            .await
            .expect("pg_terminate_backend");
        assert!(ended, "server process {pid} was not ended");
        self.conn.execute("COMMIT").await.expect("COMMIT");
        let _ = self.conn.close().await;
        let _ = self.watcher.close().await;
    }

    /// Waits (at most 5 minutes) until a connection waits for this lock; returns its server
    /// process id.
    pub async fn wait_for_waiter(&mut self) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(300);
        let pid: i32 = loop {
            let waiting: Option<i32> = sqlx::query_scalar(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
                 AND wait_event_type = 'Lock' AND pid <> pg_backend_pid() LIMIT 1",
            )
            .fetch_optional(&mut self.watcher)
            .await
            .expect("read pg_stat_activity");
            if let Some(pid) = waiting {
                break pid;
            }
            assert!(
                Instant::now() < deadline,
                "the run never waited for its lock"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        pid
    }
}

/// A PostgreSQL server of our own: `initdb` into a temporary folder, started with `pg_ctl` on a
/// free port, run as the `postgres` user when we are root (initdb refuses root). Stopped on drop.
pub struct PrivatePostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_user: Option<&'static str>,
}

impl PrivatePostgres {
    /// Starts a server, or says why one cannot be started here (the caller skips with it).
    pub fn start() -> Result<PrivatePostgres, String> {
        let bin = postgres_bin()?;
        let dir = tempfile::tempdir().map_err(|e| format!("no temporary folder: {e}"))?;
        let as_user = if is_root() {
            let status = Command::new("id")
                .args(["-u", "postgres"])
                .output()
                .map_err(|e| format!("`id` failed: {e}"))?;
            if !status.status.success() {
                return Err("running as root and there is no `postgres` user to run initdb".into());
            }
            let chown = Command::new("chown")
                .args(["-R", "postgres"])
                .arg(dir.path())
                .status()
                .map_err(|e| format!("`chown` failed: {e}"))?;
            if !chown.success() {
                return Err(format!(
                    "could not give `{}` to `postgres`",
                    dir.path().display()
                ));
            }
            Some("postgres")
        } else {
            None
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let server = PrivatePostgres {
            dir,
            bin,
            port,
            as_user,
        };
        server.run(
            "initdb",
            &[
                "-D",
                &server.data().display().to_string(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
            ],
        )?;
        server.pg_ctl(&["start"])?;
        Ok(server)
    }

    /// The admin URL (database `postgres`).
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server (fast: open transactions are rolled back, connections ended).
    pub fn stop(&self) {
        self.pg_ctl(&["stop", "-m", "fast"]).expect("pg_ctl stop");
    }

    /// Starts the stopped server again, on the same port.
    pub fn start_again(&self) {
        self.pg_ctl(&["start"]).expect("pg_ctl start");
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn pg_ctl(&self, action: &[&str]) -> Result<(), String> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let data = self.data().display().to_string();
        let log = self.dir.path().join("server.log").display().to_string();
        let mut args = vec!["-D", &data, "-l", &log, "-w", "-t", "120", "-o", &options];
        args.extend_from_slice(action);
        self.run("pg_ctl", &args)
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<(), String> {
        let program = self.bin.join(tool);
        let mut command = match self.as_user {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&program);
                c
            }
            None => Command::new(&program),
        };
        // The server must not inherit our working folder (it may not be readable by `postgres`).
        let out = command
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .map_err(|e| format!("could not run `{}`: {e}", program.display()))?;
        if !out.status.success() {
            let log =
                std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
            return Err(format!(
                "`{tool} {}` failed: {}{}\n{log}",
                args.join(" "),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(())
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["stop", "-m", "immediate"]);
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` holding `initdb` and `pg_ctl`.
fn postgres_bin() -> Result<PathBuf, String> {
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .map_err(|e| {
            format!(
                "no PostgreSQL server binaries under `{}`: {e}",
                root.display()
            )
        })?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").exists() && bin.join("pg_ctl").exists()).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .ok_or_else(|| format!("no `initdb` and `pg_ctl` under `{}/*/bin`", root.display()))
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    #[allow(unsafe_code)]
    unsafe {
        libc::geteuid() == 0
    }
}
