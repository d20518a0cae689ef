//! Issue 14 end to end: the instance is Dagster's instance. Our real `dg launch` / `dg dev` and
//! real Dagster (`dagster`, `dagster-webserver`, `dagster-postgres` from the shared test
//! environment) on one home, both ways, on SQLite (a temporary home) and on PostgreSQL (a fresh
//! database per test on the server of `DG_TEST_POSTGRES_URL`, dropped after;
//! `DG_TEST_SKIP_POSTGRES=1` leaves those out, as in the other suites).
//!
//! - `ours_to_dagster`: Dagster reads our runs, events, tags, snapshots and materializations
//!   (`DagsterInstance.get()`, `dagster run list`, the webserver's GraphQL, `dagster asset wipe`).
//! - `dagster_to_ours`: our API, event stream, run page and downstream runs read Dagster's run.
//! - `context_instance`: `context.instance` in our runs is the persistent instance.
//! - `compute_logs`: captured output where Dagster's compute log manager puts it, shown by us.
//! - `refusals`: older revisions, a database Dagster made, a previous dg's `dg.db`, a project
//!   environment without `dagster-postgres`.
//!
//! The fixture project is `instance_fixtures/inst_project`; `probe.py` prints what real Dagster
//! sees, `pg_dump.py` every table and row of a database.

mod compute_logs;
mod context_instance;
mod dagster_to_ours;
mod ours_to_dagster;
mod refusals;
mod servers;
mod support;
