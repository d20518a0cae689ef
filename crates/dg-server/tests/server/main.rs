//! The `dg dev` server against real code locations (real Python, real `dagster`, real SQLite):
//! the API and pages in-process, live streams on a real listener, hot reload, and the OpenAPI
//! document, the `Host` check against DNS rebinding, and captured output read from Dagster's
//! compute-log files. Each test loads its own copy of the two-project workspace.

mod api;
mod api_errors;
mod common;
mod hosts;
mod limits;
mod live;
mod logs;
mod pages;
mod reload;
mod selection;
mod warm;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locations_and_assets() {
    api::locations_and_assets().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_requests_are_refused() {
    api::cross_site_requests_are_refused().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_launched_run_succeeds_and_records_its_events() {
    api::a_launched_run_succeeds_and_records_its_events().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_selection_spanning_locations_runs_in_each_upstream_first() {
    api::a_selection_spanning_locations_runs_in_each_upstream_first().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launching_a_key_two_locations_define_names_both() {
    api::launching_a_key_two_locations_define_names_both().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_and_deep_selections_are_answered_not_fatal() {
    selection::long_and_deep_selections_are_answered_not_fatal().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_materialize_form_starts_a_run() {
    api::the_materialize_form_starts_a_run().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asset_statuses_counts_and_run_pages() {
    pages::statuses_counts_and_run_pages().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_on_a_real_listener() {
    live::streams_on_a_real_listener().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_is_canceled() {
    live::a_run_is_canceled().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_location_reloads_when_its_files_change() {
    reload::a_location_reloads_when_its_files_change().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_start_cold_and_warm_up_after_their_first_run() {
    warm::agents_start_cold_and_warm_up_after_their_first_run().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_asset_appears_while_a_run_of_the_old_code_goes_on() {
    reload::a_new_asset_appears_while_a_run_of_the_old_code_goes_on().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_superseded_load_is_cancelled() {
    reload::a_superseded_load_is_cancelled().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_over_a_limit_get_429() {
    limits::requests_over_a_limit_get_429().await;
}

#[test]
fn the_openapi_document_describes_every_route_and_validates() {
    live::openapi_document();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_for_other_host_names_are_refused() {
    hosts::other_host_names_are_refused().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_documented_json_errors() {
    api_errors::malformed_requests_get_documented_json_errors().await;
}

#[test]
fn the_openapi_document_says_what_the_server_does() {
    api_errors::the_document_says_what_the_server_does();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captured_output_is_read_from_dagsters_files() {
    logs::captured_output_is_read_from_dagsters_files().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_compute_log_managers_say_why_nothing_is_shown() {
    logs::other_compute_log_managers_say_why_nothing_is_shown().await;
}
