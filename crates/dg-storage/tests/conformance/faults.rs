//! Transient failures of PostgreSQL: a server process ended (`pg_terminate_backend`) while a write
//! waits inside its transaction. The error is classed transient; the storage that `open` returns
//! retries it and the write lands exactly once; a spent budget names the attempts and the cause.
//! The waiting write is made certain by holding the lock it needs from a second connection.

use std::sync::Arc;
use std::time::Duration;

use dg_storage::{OpenOptions, RetryPolicy, Retrying, RunFilter, Storage, StorageError};

use crate::fixture::TestDb;
use crate::util::{all_events, assert_exactly_once_in_order, logs, new_run};

/// Runs `op` while `holder` holds a lock it needs (taken by `lock_sql`), ends the server process
/// of `op` once it waits for that lock, then releases the lock; returns `op`'s result.
async fn end_the_waiting_connection<T: Send + 'static>(
    db: &TestDb,
    lock_sql: &str,
    op: impl std::future::Future<Output = T> + Send + 'static,
) -> T {
    let mut holder = db.raw_connection().await;
    let mut watcher = db.raw_connection().await;
    holder.begin_write().await;
    holder.exec(lock_sql).await;
    let task = tokio::spawn(op);
    let pid = TestDb::wait_for_lock_waiter(&mut watcher)
        .await
        .expect("a PostgreSQL waiter");
    watcher
        .exec(&format!("SELECT pg_terminate_backend({pid})"))
        .await;
    holder.exec("COMMIT").await;
    task.await.expect("the operation's task")
}

/// The lock a batch of the run's events takes: PostgreSQL's advisory lock (`dgru`, the run id's
/// hash).
fn lock_run(run_id: &str) -> String {
    format!(
        "SELECT pg_advisory_xact_lock({}, hashtext('{run_id}'))",
        0x6467_7275
    )
}

pub async fn a_connection_ended_mid_write_is_retried(db: TestDb) -> TestDb {
    let retrying = db.open().await;
    let plain: Arc<dyn Storage> = db.open_with(&OpenOptions::default()).await.unwrap();
    let id = retrying
        .create_run(&new_run("loc", &[]))
        .await
        .unwrap()
        .run_id;
    retrying.append_events(&id, &logs(1..=5)).await.unwrap();

    // Without retries the caller sees the failure, classed transient.
    let err = end_the_waiting_connection(&db, &lock_run(&id), {
        let (plain, id) = (plain.clone(), id.clone());
        async move { plain.append_events(&id, &logs(6..=10)).await }
    })
    .await
    .expect_err("the server process of the write was ended");
    assert!(err.is_transient(), "{err:?}");

    // Through the storage `open` returns, the write is retried and stored once.
    let ids = end_the_waiting_connection(&db, &lock_run(&id), {
        let (retrying, id) = (retrying.clone(), id.clone());
        async move { retrying.append_events(&id, &logs(6..=10)).await }
    })
    .await
    .expect("retried");
    assert_eq!(ids.len(), 5);
    assert_exactly_once_in_order(&all_events(retrying.as_ref(), &id).await, 10);

    // A budget of zero gives up at the first failure, naming the attempts and the cause.
    let impatient = Arc::new(Retrying::new(
        plain.clone(),
        RetryPolicy {
            budget: Duration::ZERO,
            ..RetryPolicy::default()
        },
    ));
    let err = end_the_waiting_connection(&db, &lock_run(&id), {
        let id = id.clone();
        async move { impatient.append_events(&id, &logs(11..=12)).await }
    })
    .await
    .expect_err("no retries allowed");
    let StorageError::Unavailable { attempts, last, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*attempts, 1);
    assert!(last.is_transient(), "{last:?}");
    assert!(err.to_string().contains("stayed unavailable"), "{err}");
    assert_exactly_once_in_order(&all_events(retrying.as_ref(), &id).await, 10);
    db
}

/// `create_run` whose first attempt committed but whose answer was lost: the retry finds the run
/// and returns it instead of failing with `RunExists`. Here another transaction inserts the row
/// first, so the create waits on the unique index, is ended, and retries once that commits.
pub async fn a_run_created_before_a_lost_answer_is_returned(db: TestDb) -> TestDb {
    let s = db.open().await;
    let run = new_run("loc", &[]);
    let body = format!(
        r#"{{"__class__": "PipelineRun", "pipeline_name": "__ASSET_JOB", "run_config": {{}}, "run_id": "{}", "status": {{"__enum__": "PipelineRunStatus.QUEUED"}}, "tags": {{}}}}"#,
        run.run_id
    );
    let insert = format!(
        "INSERT INTO runs (run_id, pipeline_name, status, run_body, create_timestamp, update_timestamp) \
         VALUES ('{}', '__ASSET_JOB', 'QUEUED', '{body}', now(), now())",
        run.run_id
    );
    let created = end_the_waiting_connection(&db, &insert, {
        let (s, run) = (s.clone(), run.clone());
        async move { s.create_run(&run).await }
    })
    .await
    .expect("the retry returns the stored run");
    assert_eq!(created.run_id, run.run_id);
    let all = s.list_runs(&RunFilter::default()).await.unwrap();
    assert_eq!(all.len(), 1, "{all:?}");
    // Without a failure first, an existing id is still refused.
    let err = s.create_run(&run).await.unwrap_err();
    assert!(matches!(err, StorageError::RunExists { .. }), "{err:?}");
    db
}
