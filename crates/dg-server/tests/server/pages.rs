//! The pages as a user sees them, in-process: asset counts per location without other locations'
//! stubs, asset statuses in the lineage graph, the catalog and the asset page (materializing,
//! failed, stale, materialized, never), and the run page of a failed run.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::common::{write_project, Fixture, ALPHA};

/// Beta with an asset that fails after printing to both streams (user text with markup in its
/// error), next to its report on alpha's `alpha_clean`.
const BETA_FAILING: &str = r#"import sys

import dagster as dg


@dg.asset(deps=[dg.AssetKey("alpha_clean")], group_name="reports")
def beta_report() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"pages": 1})


@dg.asset(group_name="exports")
def beta_broken() -> None:
    print("uploading <report>")
    print("retrying <upload>", file=sys.stderr)
    raise RuntimeError("bucket <b>exports</b> does not exist")


defs = dg.Definitions(assets=[beta_report, beta_broken])
"#;

/// The two-project workspace with the failing beta, loaded and served.
async fn start() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    write_project(dir.path(), "alpha", ALPHA);
    write_project(dir.path(), "beta", BETA_FAILING);
    Fixture::serve(dir).await
}

async fn get(f: &Fixture, uri: &str) -> (StatusCode, String) {
    let request = Request::get(uri).body(Body::empty()).unwrap();
    let response = dg_server::app(f.state.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// Launches `selection` through the API; returns the run id.
async fn launch(f: &Fixture, selection: &str) -> String {
    let request = Request::post("/api/runs")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({ "selection": selection }).to_string()))
        .unwrap();
    let response = dg_server::app(f.state.clone())
        .oneshot(request)
        .await
        .unwrap();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let run: Value = serde_json::from_slice(&bytes).unwrap();
    run["run_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{run}"))
        .to_owned()
}

/// The status class of `key`'s node in the lineage page.
fn node_status(lineage: &str, key: &str) -> String {
    let href = format!("href=\"/assets/{key}\"");
    let at = lineage
        .find(&href)
        .unwrap_or_else(|| panic!("no node {key}"));
    let start = lineage[..at].rfind("<a class=\"node ").unwrap() + "<a class=\"node ".len();
    lineage[start..at].trim().trim_end_matches('"').to_owned()
}

/// The status badge of `key`'s row in the catalog.
fn catalog_status(catalog: &str, key: &str) -> String {
    let row = format!("<tr data-asset=\"{key}\">");
    let at = catalog.find(&row).unwrap_or_else(|| panic!("no row {key}"));
    let rest = &catalog[at..];
    let start = rest.find("data-asset-status=\"").unwrap() + "data-asset-status=\"".len();
    rest[start..start + rest[start..].find('"').unwrap()].to_owned()
}

pub async fn statuses_counts_and_run_pages() {
    let f = start().await;

    // Beta holds a stub for alpha_clean: it defines two assets, not three.
    let locations = f.host.locations();
    let count = |name: &str| {
        locations
            .iter()
            .find(|l| l.name == name)
            .map(|l| l.asset_count)
    };
    assert_eq!((count("alpha"), count("beta")), (Some(3), Some(2)));
    let (_, overview) = get(&f, "/").await;
    let beta_row = &overview[overview.find("<tr data-location=\"beta\"").unwrap()..];
    assert!(
        beta_row[..beta_row.find("</tr>").unwrap()].contains("<td>2</td>"),
        "{beta_row}"
    );

    // Nothing ran yet.
    let (_, lineage) = get(&f, "/lineage").await;
    assert_eq!(node_status(&lineage, "alpha_raw"), "status-missing");

    let first = launch(&f, "key:alpha_raw or key:alpha_clean").await;
    assert_eq!(f.wait_run(&first).await, dg_storage::RunStatus::Success);
    let broken = launch(&f, "key:beta_broken").await;
    assert_eq!(f.wait_run(&broken).await, dg_storage::RunStatus::Failure);
    let (_, lineage) = get(&f, "/lineage").await;
    assert_eq!(node_status(&lineage, "alpha_raw"), "status-materialized");
    assert_eq!(node_status(&lineage, "alpha_clean"), "status-materialized");
    assert_eq!(node_status(&lineage, "beta_broken"), "status-failed");
    assert_eq!(node_status(&lineage, "beta_report"), "status-missing");

    // alpha_raw again: alpha_clean is now older than its upstream.
    let again = launch(&f, "key:alpha_raw").await;
    assert_eq!(f.wait_run(&again).await, dg_storage::RunStatus::Success);
    let (_, catalog) = get(&f, "/assets").await;
    assert_eq!(catalog_status(&catalog, "alpha_clean"), "Stale");
    assert_eq!(catalog_status(&catalog, "alpha_raw"), "Materialized");
    assert_eq!(catalog_status(&catalog, "beta_broken"), "Failed");
    assert_eq!(
        catalog_status(&catalog, "beta_report"),
        "Never materialized"
    );
    let (_, page) = get(&f, "/assets/alpha_clean").await;
    assert!(page.contains("data-asset-status=\"Stale\""), "{page}");

    // A slow run in progress: materializing until it is canceled.
    let slow = launch(&f, "key:alpha_slow").await;
    let (_, lineage) = get(&f, "/lineage").await;
    assert_eq!(node_status(&lineage, "alpha_slow"), "status-running");
    f.state.runs.cancel(&slow);
    assert_eq!(f.wait_run(&slow).await, dg_storage::RunStatus::Canceled);
    let (_, lineage) = get(&f, "/lineage").await;
    assert_eq!(node_status(&lineage, "alpha_slow"), "status-missing");

    check_failed_run_page(&f, &broken).await;
}

/// The page of the failed run: error and traceback readable, user text escaped.
async fn check_failed_run_page(f: &Fixture, id: &str) {
    let (status, page) = get(f, &format!("/runs/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("bucket &lt;b&gt;exports&lt;/b&gt; does not exist"));
    assert!(!page.contains("<b>exports</b>"));
    // Its printed lines are in compute logs, not events (issue 14); the page does not read those.
    // The error on top: the step, the exception class, the whole traceback in a scrollable block.
    let panel = &page[page.find("data-run-error").expect("an error panel")..];
    let panel = &panel[..panel.find("</section>").unwrap()];
    assert!(
        panel.contains("in step <code>beta_broken</code>"),
        "{panel}"
    );
    assert!(panel.contains("<code>RuntimeError</code>: bucket &lt;b&gt;"));
    let traceback = &panel[panel
        .find("<pre class=\"traceback\">")
        .expect("a traceback")..];
    assert!(traceback.contains("in beta_broken\n"), "{traceback}");
    // The failed step's bar on the timeline, and event times to the millisecond.
    assert!(
        page.contains("<rect class=\"bar status-failure\""),
        "{page}"
    );
    let time = &page[page.find("<td class=\"small time\"").unwrap()..];
    let clock = &time[time.find('>').unwrap() + 1..time.find("</td>").unwrap()];
    let shape: String = clock
        .chars()
        .map(|c| if c.is_ascii_digit() { '9' } else { c })
        .collect();
    assert_eq!(shape, "99:99:99.999", "{clock}");
    // The failure rows carry the traceback folded.
    assert!(page.contains("<tr data-event-id="));
    assert!(page.contains("class=\"ev-failure\"") && page.contains("<summary>Traceback</summary>"));
}
