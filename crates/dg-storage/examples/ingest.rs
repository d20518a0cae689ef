//! Event ingestion throughput of one backend: one run emitting N log events, stored in batches.
//!
//! ```text
//! cargo run --release -p dg-storage --example ingest -- --backend sqlite --events 100000
//! cargo run --release -p dg-storage --example ingest -- --backend postgres --events 100000 --batch 500
//! ```
//!
//! SQLite writes into a temporary folder; PostgreSQL into a fresh database on the server named by
//! `--url` (default `$DG_TEST_POSTGRES_URL`, else the local test server), dropped afterwards.
//! Prints one line: backend, events, batch size, seconds and events per second.

use std::io::Write as _;
use std::process::ExitCode;
use std::str::FromStr;

use dg_core::env::DG_TEST_POSTGRES_URL;
use dg_storage::bench::{ingest, IngestSpec};
use dg_storage::{InstanceConfig, PostgresConfig, SqliteConfig, StorageConfig};
use sqlx::{ConnectOptions, Connection};

struct Args {
    backend: String,
    events: u64,
    batch: u64,
    url: String,
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        backend: "sqlite".into(),
        events: 100_000,
        batch: 1000,
        url: std::env::var(DG_TEST_POSTGRES_URL)
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("`{flag}` needs a value"))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("`{flag}` takes a number, not `{value}`"))
        };
        match flag.as_str() {
            "--backend" => args.backend = value.clone(),
            "--events" => args.events = number()?,
            "--batch" => args.batch = number()?,
            "--url" => args.url = value.clone(),
            other => {
                return Err(format!(
                    "unknown flag `{other}` (use --backend, --events, --batch, --url)"
                ))
            }
        }
    }
    Ok(args)
}

async fn admin(url: &str, sql: &str) -> Result<(), String> {
    let options = sqlx::postgres::PgConnectOptions::from_str(url).map_err(|e| e.to_string())?;
    let mut conn = options
        .connect()
        .await
        .map_err(|e| format!("PostgreSQL at `{url}`: {e}"))?;
    sqlx::raw_sql(sql)
        .execute(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    conn.close().await.ok();
    Ok(())
}

async fn run(args: &Args) -> Result<String, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut config = InstanceConfig::default_for(dir.path());
    let mut drop_db = None;
    config.storage = match args.backend.as_str() {
        "sqlite" => StorageConfig::Sqlite(SqliteConfig::under(dir.path())),
        "postgres" => {
            let admin_config =
                PostgresConfig::from_url(&args.url, "--url").map_err(|e| e.to_string())?;
            let name = format!("dg_bench_{}", uuid::Uuid::new_v4().simple());
            admin(&args.url, &format!("CREATE DATABASE {name}")).await?;
            drop_db = Some(name.clone());
            StorageConfig::Postgres(admin_config.with_database(&name))
        }
        other => return Err(format!("unknown backend `{other}` (sqlite or postgres)")),
    };
    let result = async {
        let storage = dg_storage::open(&config).await.map_err(|e| e.to_string())?;
        let spec = IngestSpec {
            events: args.events,
            batch: args.batch,
        };
        ingest(storage.as_ref(), spec)
            .await
            .map_err(|e| e.to_string())
    }
    .await;
    if let Some(name) = drop_db {
        admin(
            &args.url,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        )
        .await?;
    }
    let report = result?;
    Ok(format!(
        "backend={} events={} batch={} seconds={:.3} events_per_second={:.0}",
        args.backend,
        report.events,
        args.batch,
        report.elapsed.as_secs_f64(),
        report.events_per_second()
    ))
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(args) => args,
        Err(e) => {
            // An example binary has no Printer (dg-cli sits above this crate); plain writes suffice.
            let _ = writeln!(std::io::stderr(), "error: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    match rt.block_on(run(&args)) {
        Ok(line) => {
            let _ = writeln!(std::io::stdout(), "{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e}");
            ExitCode::FAILURE
        }
    }
}
