//! The storage conformance suite: every test runs against SQLite (in a temporary folder) and against
//! the real PostgreSQL named by `DG_TEST_POSTGRES_URL` (a fresh database per test). PostgreSQL being
//! unreachable fails its tests, unless `DG_TEST_SKIP_POSTGRES=1` marks them ignored.
//!
//! A custom harness (libtest-mimic) so that one list of tests is instantiated per backend, and so
//! that this binary can also act as a second writer process (`--child-writer`).

mod assets;
mod child;
mod events;
mod faults;
mod fixture;
mod monitor;
mod runs;
mod schema;
mod tmpfs;
mod util;

use std::future::Future;
use std::pin::Pin;

use dg_core::env::DG_TEST_SKIP_POSTGRES;
use fixture::{Backend, TestDb};
use libtest_mimic::{Arguments, Trial};

type TestFn = fn(TestDb) -> Pin<Box<dyn Future<Output = TestDb> + Send>>;

macro_rules! list {
    ($($module:ident :: $name:ident),* $(,)?) => {
        vec![$(
            (
                concat!(stringify!($module), "::", stringify!($name)),
                (|db| Box::pin($module::$name(db))) as TestFn,
            )
        ),*]
    };
}

fn main() -> std::process::ExitCode {
    if std::env::args().nth(1).as_deref() == Some(child::FLAG) {
        return child::main();
    }
    let both = list![
        runs::create_get_and_list,
        runs::list_filters_and_pages,
        runs::status_transitions,
        runs::heartbeats,
        events::typed_events_round_trip,
        events::retried_batches_are_stored_once,
        events::bad_sequences_are_refused,
        events::host_events_do_not_collide,
        events::cursor_tailing_sees_each_event_once,
        events::concurrent_tasks_store_each_event_once_in_order,
        events::concurrent_processes_store_each_event_once_in_order,
        events::a_killed_writer_loses_no_acknowledged_event,
        assets::latest_materialization_by_partition,
        assets::materialization_history_pages,
        assets::asset_check_results,
        schema::opens_a_new_instance_at_dagsters_revision,
        schema::refuses_an_older_revision_without_changing_it,
        schema::data_survives_reopening,
        monitor::orphaned_runs_are_marked_failed,
        monitor::canceling_runs_that_lost_their_worker_end_canceled,
        monitor::a_heartbeat_that_lands_while_monitoring_looks_wins,
        events::resent_host_events_are_stored_once,
        events::dagster_text_is_stored_as_itself,
    ];
    let postgres_only = list![
        schema::unreachable_postgres_is_a_prompt_error,
        schema::refuses_a_previous_dgs_database_without_touching_it,
        faults::a_connection_ended_mid_write_is_retried,
        faults::a_run_created_before_a_lost_answer_is_returned,
    ];
    let sqlite_only = list![
        schema::full_disk_is_a_clean_error,
        schema::a_real_full_disk_leaves_room_to_record_the_failure,
    ];

    let skip_pg = std::env::var(DG_TEST_SKIP_POSTGRES).is_ok_and(|v| !v.is_empty() && v != "0");
    let mut trials = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let only = match backend {
            Backend::Postgres => &postgres_only,
            Backend::Sqlite => &sqlite_only,
        };
        let tests = both.iter().chain(only.iter());
        for &(name, test) in tests {
            let trial = Trial::test(format!("{}::{name}", backend.name()), move || {
                fixture::run(backend, test);
                Ok(())
            });
            trials.push(trial.with_ignored_flag(backend == Backend::Postgres && skip_pg));
        }
    }
    libtest_mimic::run(&Arguments::from_args(), trials).exit_code()
}
