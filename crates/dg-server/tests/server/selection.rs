//! Selections too long or too deep for the host: each route that takes one (`GET /api/assets`,
//! `/assets`, `/lineage`, `POST /api/runs`) answers 400 with the column that went too far, and a
//! long chain within the limits is answered normally. Before issue 13 a 700-term `or` chain
//! overflowed a (debug) tokio worker's stack and a 20,000-term one a release build's, which
//! aborted the whole process; these requests run on the test runtime's worker threads (2 MiB
//! stacks, like `dg dev`'s), so a regression aborts this test binary.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::common::Fixture;

/// Answers `request` on a tokio worker thread, as `dg dev` does.
async fn call(f: &Fixture, request: Request<Body>) -> (StatusCode, String) {
    let app = dg_server::app(f.state.clone());
    let response = tokio::spawn(app.oneshot(request))
        .await
        .expect("the handler did not panic")
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// `GET path?selection=<selection>`.
async fn get(f: &Fixture, path: &str, selection: &str) -> (StatusCode, String) {
    let uri = format!("{path}?selection={}", query_value(selection));
    call(f, Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn get_json(f: &Fixture, path: &str, selection: &str) -> (StatusCode, Value) {
    let (status, body) = get(f, path, selection).await;
    (status, serde_json::from_str(&body).unwrap())
}

async fn launch(f: &Fixture, selection: &str) -> (StatusCode, Value) {
    let request = Request::post("/api/runs")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({ "selection": selection }).to_string()))
        .unwrap();
    let (status, body) = call(f, request).await;
    (status, serde_json::from_str(&body).unwrap())
}

/// Form-encodes a query value, as short as a browser would (a URI holds at most 64 KiB).
fn query_value(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b'*' | b'(' | b')' | b':' => (b as char).to_string(),
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn keys(list: &Value) -> Vec<&str> {
    list["assets"]
        .as_array()
        .unwrap_or_else(|| panic!("{list}"))
        .iter()
        .map(|a| a["key"].as_str().unwrap())
        .collect()
}

/// The message of an API error, checked to be a short positioned selection error.
fn positioned(body: &Value, column: usize) -> &str {
    let message = body["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"));
    assert!(
        message.starts_with(&format!("invalid asset selection at column {column}:")),
        "{message}"
    );
    assert!(
        message.len() < 1_000,
        "a window of the text, not all of it: {message}"
    );
    assert!(body["error"]["hint"].is_string(), "{body}");
    message
}

pub async fn long_and_deep_selections_are_answered_not_fatal() {
    let f = Fixture::start().await;

    // Within the limits: long chains are one node, evaluated without recursion.
    let stars = vec!["*"; 700].join(" or ");
    let (status, all) = get_json(&f, "/api/assets", &stars).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(
        keys(&all),
        ["alpha_clean", "alpha_raw", "alpha_slow", "beta_report"]
    );
    let named = format!(
        "{} or key:beta_report",
        vec!["key:alpha_raw"; 699].join(" or ")
    );
    let (status, two) = get_json(&f, "/api/assets", &named).await;
    assert_eq!(status, StatusCode::OK, "{two}");
    assert_eq!(keys(&two), ["alpha_raw", "beta_report"]);
    let deep = format!("{}key:alpha_raw+{}", "(".repeat(199), ")".repeat(199));
    let (status, down) = get_json(&f, "/api/assets", &deep).await;
    assert_eq!(status, StatusCode::OK, "{down}");
    assert_eq!(keys(&down), ["alpha_clean", "alpha_raw", "beta_report"]);
    for page in ["/assets", "/lineage"] {
        let (status, html) = get(&f, page, &stars).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(html.contains("alpha_slow"), "{page}");
    }

    // Too many terms, too deep: refused where it goes too far. (A URI holds at most 64 KiB, so
    // a GET cannot carry a selection over the length limit; a POST can, below.)
    let many = vec!["*"; 5_000].join(" and ");
    let (status, body) = get_json(&f, "/api/assets", &many).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(positioned(&body, 4_096 * 6 + 1).contains("more than 4096 terms"));
    let deeper = format!("{}key:alpha_raw{}", "(".repeat(5_000), ")".repeat(5_000));
    let (status, body) = get_json(&f, "/api/assets", &deeper).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(positioned(&body, 201).contains("deeper than 200 levels"));

    // The pages show the same error, readable and escaped, with an empty result.
    for page in ["/assets", "/lineage"] {
        for (selection, column) in [(&many, 4_096 * 6 + 1), (&deeper, 201)] {
            let (status, html) = get(&f, page, selection).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
            assert!(
                html.contains(&format!("invalid asset selection at column {column}:")),
                "{page}: {}",
                &html[..html.len().min(2_000)]
            );
            assert!(
                !html.contains("data-asset=") && !html.contains("data-i="),
                "{page}"
            );
        }
    }

    // Launching: refused with the same message, and no run is created. 20,000 terms (100 KB) is
    // the request that ended a release build of `dg dev`: too long.
    let huge = vec!["*"; 20_000].join(" or ");
    let (status, body) = launch(&f, &huge).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(positioned(&body, 65_537).contains("longer than 65536 characters"));
    for (selection, column) in [(&many, 4_096 * 6 + 1), (&deeper, 201)] {
        let (status, body) = launch(&f, selection).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        positioned(&body, column);
    }
    let runs = f
        .state
        .storage
        .list_runs(&Default::default())
        .await
        .unwrap();
    assert!(runs.is_empty(), "{runs:?}");
    // A 700-term selection launches a run of what it names.
    let (status, run) = launch(&f, &vec!["key:alpha_raw"; 700].join(" or ")).await;
    assert_eq!(status, StatusCode::CREATED, "{}", run["error"]);
    let run_id = run["run_id"].as_str().unwrap().to_owned();
    assert_eq!(f.wait_run(&run_id).await, dg_storage::RunStatus::Success);

    // Still serving.
    let request = Request::get("/api/locations").body(Body::empty()).unwrap();
    assert_eq!(call(&f, request).await.0, StatusCode::OK);
}
