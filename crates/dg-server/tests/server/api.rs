//! The API and pages in-process (`tower::ServiceExt::oneshot`): locations, assets with
//! selections, cross-site protection, launching a run that succeeds with its events, and every
//! page rendering with user text escaped.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::common::Fixture;

async fn call(f: &Fixture, request: Request<Body>) -> (StatusCode, String) {
    let response = dg_server::app(f.state.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn get(f: &Fixture, uri: &str) -> (StatusCode, String) {
    call(f, Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn get_json(f: &Fixture, uri: &str) -> (StatusCode, Value) {
    let (status, body) = get(f, uri).await;
    (
        status,
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{uri}: {e}: {body}")),
    )
}

fn post_json(uri: &str, body: Value) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

async fn launch(f: &Fixture, body: Value) -> (StatusCode, Value) {
    let (status, text) = call(f, post_json("/api/runs", body)).await;
    (status, serde_json::from_str(&text).unwrap())
}

fn keys(list: &Value) -> Vec<String> {
    list["assets"]
        .as_array()
        .unwrap_or_else(|| panic!("{list}"))
        .iter()
        .map(|a| a["key"].as_str().unwrap().to_owned())
        .collect()
}

pub async fn locations_and_assets() {
    let f = Fixture::start().await;
    let (status, body) = get_json(&f, "/api/locations").await;
    assert_eq!(status, StatusCode::OK);
    let locations = body["locations"].as_array().unwrap();
    assert_eq!(locations.len(), 2);
    for loc in locations {
        assert_eq!(loc["status"], "loaded");
        assert_eq!(loc["dagster_version"], dg_config::DAGSTER_VERSION);
        assert!(loc["load_seconds"].as_f64().unwrap() > 0.0, "{loc}");
        assert!(loc["agent_pid"].as_u64().is_some());
    }

    let (_, all) = get_json(&f, "/api/assets").await;
    assert_eq!(
        keys(&all),
        ["alpha_clean", "alpha_raw", "alpha_slow", "beta_report"]
    );
    let clean = &all["assets"][0];
    assert_eq!(clean["location"], "alpha");
    assert_eq!(
        clean["downstream"],
        json!(["beta_report"]),
        "cross-location edge"
    );
    assert_eq!(all["assets"][3]["deps"], json!(["alpha_clean"]));
    assert_eq!(all["assets"][3]["location"], "beta");

    let (_, raw) = get_json(&f, "/api/assets?selection=group:raw").await;
    assert_eq!(keys(&raw), ["alpha_raw"]);
    let (_, down) = get_json(&f, "/api/assets?selection=key:alpha_raw%2B").await;
    assert_eq!(keys(&down), ["alpha_clean", "alpha_raw", "beta_report"]);
    let (status, bad) = get_json(&f, "/api/assets?selection=group:(").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid asset selection"),
        "{bad}"
    );

    let (status, detail) = get_json(&f, "/api/assets/alpha_raw").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail["asset"]["description"], "<b>raw & unescaped</b>");
    assert_eq!(detail["asset"]["kinds"], json!(["python"]));
    assert_eq!(detail["materializations"], json!([]));
    let (status, missing) = get_json(&f, "/api/assets/no/such").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(missing["error"]["message"]
        .as_str()
        .unwrap()
        .contains("`no/such`"));

    let (status, _) = call(
        &f,
        Request::post("/api/locations/nope/reload")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(&f, "/api/nothing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

pub async fn cross_site_requests_are_refused() {
    let f = Fixture::start().await;
    let body = json!({"selection": "alpha_raw"}).to_string();
    let evil_origin = Request::post("/api/runs")
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::ORIGIN, "http://evil.example")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.clone()))
        .unwrap();
    assert_eq!(call(&f, evil_origin).await.0, StatusCode::FORBIDDEN);
    let cross_site = Request::post("/locations/alpha/reload")
        .header("sec-fetch-site", "cross-site")
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(&f, cross_site).await.0, StatusCode::FORBIDDEN);
    let form = Request::post("/api/runs")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(body))
        .unwrap();
    assert_eq!(call(&f, form).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // The same origin is fine (a form on our own page).
    let same = Request::post("/locations/alpha/reload")
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::ORIGIN, "http://127.0.0.1:3000")
        .header("sec-fetch-site", "same-origin")
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(&f, same).await.0, StatusCode::SEE_OTHER);
    assert!(f
        .state
        .storage
        .list_runs(&Default::default())
        .await
        .unwrap()
        .is_empty());
}

pub async fn a_launched_run_succeeds_and_records_its_events() {
    let f = Fixture::start().await;
    let (status, _) = launch(&f, json!({"selection": "alpha_raw", "job": "x"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = launch(&f, json!({"job": "no_such_job"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, run) = launch(
        &f,
        json!({"selection": "alpha_raw", "tags": {"team": "<data>"}}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    let id = run["run_id"].as_str().unwrap().to_owned();
    assert_eq!(run["location"], "alpha");
    assert_eq!(run["job_name"], "__ASSET_JOB");
    assert_eq!(f.wait_run(&id).await, dg_storage::RunStatus::Success);

    let (_, events) = get_json(&f, &format!("/api/runs/{id}/events")).await;
    let types: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"]["type"].as_str().unwrap())
        .collect();
    for expected in [
        "RUN_STARTING",
        "RUN_START",
        "STEP_START",
        "ASSET_MATERIALIZATION",
        "STEP_SUCCESS",
        "RUN_SUCCESS",
    ] {
        assert!(
            types.contains(&expected),
            "{expected} missing from {types:?}"
        );
    }
    // What the asset printed is not an event in Dagster's instance (issue 14): the worker's
    // compute log manager keeps it in files, and the stored log has no STDOUT/STDERR rows.
    let printed = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["event"]["type"] == "STDOUT" || e["event"]["type"] == "STDERR");
    assert!(!printed, "{events}");
    let cursor = events["cursor"].as_i64().unwrap();
    let (_, rest) = get_json(&f, &format!("/api/runs/{id}/events?after={cursor}")).await;
    assert_eq!(rest["events"], json!([]));

    let (_, detail) = get_json(&f, "/api/assets/alpha_raw").await;
    assert_eq!(detail["materializations"][0]["run_id"], id.as_str());
    assert_eq!(detail["materializations"][0]["metadata"]["rows"], 3);
    let (_, list) = get_json(&f, "/api/runs?status=SUCCESS&location=alpha").await;
    assert_eq!(list["runs"][0]["run_id"], id.as_str());
    let (_, none) = get_json(&f, "/api/runs?location=beta").await;
    assert_eq!(none["runs"], json!([]));
    let (status, _) = get_json(&f, "/api/runs?status=BOGUS").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = call(
        &f,
        Request::post(format!("/api/runs/{id}/cancel"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // The pages: every one renders, and user text is escaped.
    let (status, page) = get(&f, &format!("/runs/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("STEP_SUCCESS"));
    assert!(page.contains("&lt;data&gt;") && !page.contains("<data>"));
    let (_, asset) = get(&f, "/assets/alpha_raw").await;
    assert!(
        asset.contains("&lt;b&gt;raw &amp; unescaped&lt;/b&gt;"),
        "{asset}"
    );
    assert!(asset.contains("data-materialize") && asset.contains(&id));
    let (_, overview) = get(&f, "/").await;
    assert!(
        overview.contains("data-location=\"alpha\"")
            && overview.contains("LOADED")
            && overview.contains(&id[..8])
    );
    let (_, catalog) = get(&f, "/assets?selection=group%3Araw").await;
    assert!(catalog.contains("alpha_raw") && !catalog.contains("beta_report"));
    let (status, catalog) = get(&f, "/assets?selection=%3Cscript%3E(").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!catalog.contains("<script>("), "selection text is escaped");
    let (_, lineage) = get(&f, "/lineage").await;
    assert!(lineage.contains("<svg") && lineage.contains("cross-location"));
    let (_, runs) = get(&f, "/runs?status=SUCCESS").await;
    assert!(runs.contains(&id[..8]));
    let (status, launch_page) = get(&f, "/launch?selection=alpha_raw").await;
    assert_eq!(status, StatusCode::OK);
    assert!(launch_page.contains("value=\"alpha_raw\""));
    let (status, _) = get(&f, "/static/live.js").await;
    assert_eq!(status, StatusCode::OK);
}

pub async fn the_materialize_form_starts_a_run() {
    let f = Fixture::start().await;
    let request = Request::builder()
        .method(Method::POST)
        .uri("/runs")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("asset=beta_report&location=beta"))
        .unwrap();
    let response = dg_server::app(f.state.clone())
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    let id = location.strip_prefix("/runs/").unwrap();
    assert_eq!(f.wait_run(id).await, dg_storage::RunStatus::Success);
    let form = Request::post("/runs")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("selection=alpha_raw&config=%7Bnot+json"))
        .unwrap();
    let (status, page) = call(&f, form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("not valid JSON"));
}

/// A selection spanning `alpha` and `beta` (where `beta_report` depends on `alpha_clean`, not
/// selected) runs as one run per location: `alpha`'s first, answered with `next_runs` naming
/// `beta`'s, which starts once `alpha`'s succeeded.
pub async fn a_selection_spanning_locations_runs_in_each_upstream_first() {
    let f = Fixture::start().await;
    let (status, run) = launch(
        &f,
        json!({"selection": "key:beta_report or key:alpha_raw", "tags": {"team": "data"}}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    assert_eq!(run["location"], "alpha", "{run}");
    assert_eq!(
        run["next_runs"],
        json!([{"location": "beta", "assets": ["beta_report"]}]),
        "{run}"
    );
    let first = run["run_id"].as_str().unwrap().to_owned();
    assert_eq!(f.wait_run(&first).await, dg_storage::RunStatus::Success);

    // `beta`'s run is launched once `alpha`'s succeeded.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let second = loop {
        let (_, runs) = get_json(&f, "/api/runs?location=beta").await;
        if let Some(run) = runs["runs"].as_array().unwrap().first() {
            break run.clone();
        }
        assert!(std::time::Instant::now() < deadline, "no run in `beta`");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let id = second["run_id"].as_str().unwrap().to_owned();
    assert_eq!(f.wait_run(&id).await, dg_storage::RunStatus::Success);
    let (_, first_run) = get_json(&f, &format!("/api/runs/{first}")).await;
    assert!(
        second["created_at"].as_f64().unwrap() >= first_run["ended_at"].as_f64().unwrap(),
        "{second} started before {first_run} ended"
    );
    assert_eq!(second["selection"], "key:beta_report or key:alpha_raw");
    assert_eq!(second["tags"]["team"], "data");
    let (_, events) = get_json(&f, &format!("/api/runs/{id}/events")).await;
    let materialized: Vec<&Value> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"]["type"] == "ASSET_MATERIALIZATION")
        .collect();
    assert_eq!(materialized.len(), 1, "{events}");

    // One run, as before: no `next_runs`.
    let (status, run) = launch(&f, json!({"selection": "alpha_raw"})).await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    assert!(run.get("next_runs").is_none(), "{run}");
    let id = run["run_id"].as_str().unwrap().to_owned();
    assert_eq!(f.wait_run(&id).await, dg_storage::RunStatus::Success);
}

/// `alpha` and `beta` both define `alpha_raw` as materializable: launching it is ambiguous, so the
/// API answers 400 naming both locations; with `location` it runs there. A key only one location
/// materializes still launches without `location`.
pub async fn launching_a_key_two_locations_define_names_both() {
    let dir = tempfile::tempdir().unwrap();
    crate::common::write_project(dir.path(), "alpha", crate::common::ALPHA);
    let beta = format!(
        "{}\n\n@dg.asset\ndef alpha_raw():\n    print(\"beta's alpha_raw\")\n    return 1\n\n\n\
         defs = dg.Definitions(assets=[beta_report, alpha_raw])\n",
        crate::common::BETA
    );
    crate::common::write_project(dir.path(), "beta", &beta);
    let f = Fixture::serve(dir).await;

    for selection in ["alpha_raw", "alpha_raw+"] {
        let (status, bad) = launch(&f, json!({ "selection": selection })).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(
            bad["error"]["message"],
            "asset `alpha_raw` is defined as executable in 2 code locations: `alpha`, `beta`; a \
             run needs one",
            "{bad}"
        );
        assert_eq!(
            bad["error"]["hint"], "Name one with `location` (`alpha` or `beta`).",
            "{bad}"
        );
    }
    let (_, runs) = get_json(&f, "/api/runs").await;
    assert_eq!(runs["runs"].as_array().unwrap().len(), 0, "{runs}");

    let (status, run) = launch(&f, json!({"selection": "alpha_raw", "location": "beta"})).await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    assert_eq!(run["location"], "beta");
    let id = run["run_id"].as_str().unwrap().to_owned();
    assert_eq!(f.wait_run(&id).await, dg_storage::RunStatus::Success);
    let (status, run) = launch(&f, json!({"selection": "alpha_raw", "location": "alpha"})).await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    assert_eq!(run["location"], "alpha");
    let id = run["run_id"].as_str().unwrap().to_owned();
    assert_eq!(f.wait_run(&id).await, dg_storage::RunStatus::Success);

    let (status, run) = launch(&f, json!({"selection": "alpha_clean"})).await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    assert_eq!(run["location"], "alpha");
}
