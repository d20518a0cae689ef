//! What Schemathesis found, each kept fixed (in-process, a host with no location and SQLite
//! storage; no Python needed): every API error is a JSON `{"error": ...}` with a documented
//! status, also when axum rejects a query or body before the handler; `limit` outside its
//! documented range is a 400, not silently clamped; and the OpenAPI document describes server-sent
//! events per event, the 403 of the `Host` check on every operation, and 64-bit storage ids.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use dg_server::{AppState, Host, HostOptions};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

async fn state(dir: &std::path::Path) -> AppState {
    let home = dir.join(".dagster");
    let host = Host::new(
        Vec::new(),
        HostOptions {
            instance_home: Some(home.clone()),
            ..HostOptions::default()
        },
    );
    let config = dg_storage::InstanceConfig::load(&home).unwrap();
    let storage = dg_storage::open(&config).await.unwrap();
    AppState::new(host, storage, home)
}

/// Sends `request`; returns the status, the `Content-Type` and the body as JSON (panics when the
/// body is not JSON: that is the bug this guards).
async fn call(
    state: &AppState,
    request: Request<Body>,
) -> (StatusCode, Value, axum::http::HeaderMap) {
    let response = dg_server::app(state.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "{status}: not JSON ({content_type}): {text}"
    );
    let body: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status}: {e}: {text}"));
    (status, body, headers)
}

fn message(body: &Value) -> &str {
    body["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no error message: {body}"))
}

pub async fn malformed_requests_get_documented_json_errors() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path()).await;
    let run_id = dg_storage::new_run_id();
    state
        .storage
        .create_run(&dg_storage::NewRun {
            run_id: run_id.clone(),
            location: "alpha".into(),
            job_name: "__ASSET_JOB".into(),
            selection: None,
            partition: None,
            config: serde_json::json!({}),
            tags: Default::default(),
            status: dg_storage::RunStatus::Success,
            created_at: dg_storage::now(),
        })
        .await
        .unwrap();
    let get = |uri: String| Request::get(uri).body(Body::empty()).unwrap();

    // Query strings that do not parse (axum answered in plain text).
    for uri in [
        "/api/runs?limit=null&limit=null".to_owned(),
        "/api/runs?limit=-1".to_owned(),
        format!("/api/runs/{run_id}/events?limit=abc"),
        format!("/api/runs/{run_id}/events?after=1350429187231307268096"),
        format!("/api/runs/{run_id}/stream?after=null"),
    ] {
        let (status, body, _) = call(&state, get(uri.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert!(message(&body).contains("query string"), "{uri}: {body}");
        assert!(body["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("/api/openapi.json"));
    }
    // `limit` outside the documented range (was clamped: a schema-violating request accepted).
    for (uri, range) in [
        (
            "/api/runs?limit=6007283".to_owned(),
            "between 1 and 1000, not 6007283",
        ),
        ("/api/runs?limit=0".to_owned(), "between 1 and 1000, not 0"),
        (
            format!("/api/runs/{run_id}/events?limit=10001"),
            "between 1 and 10000, not 10001",
        ),
    ] {
        let (status, body, _) = call(&state, get(uri.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert!(message(&body).contains(range), "{uri}: {body}");
    }
    let (status, body, _) = call(&state, get("/api/runs?limit=1000".into())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["runs"].as_array().unwrap().len(), 1);

    // Bodies: valid JSON of the wrong shape (was 422 in plain text), not JSON, none at all.
    let post = |body: &str, content_type: Option<&str>| {
        let mut request = Request::post("/api/runs");
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        request.body(Body::from(body.to_owned())).unwrap()
    };
    let (status, body, _) =
        call(&state, post(r#"{"job": 2.2e20}"#, Some("application/json"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(message(&body).contains("job: invalid type"), "{body}");
    let (status, body, _) = call(&state, post("{", Some("application/json"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body, _) = call(&state, post("", None)).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    assert!(message(&body).contains("application/json"), "{body}");

    // A method the route does not have: 405 with `Allow`, and JSON.
    let delete = Request::builder()
        .method(Method::DELETE)
        .uri("/api/runs")
        .body(Body::empty())
        .unwrap();
    let (status, body, headers) = call(&state, delete).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
    let allow = headers[header::ALLOW].to_str().unwrap();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
}

pub fn the_document_says_what_the_server_does() {
    let doc = dg_server::api::openapi::spec();
    let paths = doc["paths"].as_object().unwrap();
    for (path, operations) in paths {
        for (method, operation) in operations.as_object().unwrap() {
            assert!(
                operation["responses"].get("403").is_some(),
                "{method} {path}: the `Host` check's 403 is not documented"
            );
        }
    }
    // Server-sent events: one schema per event (what OpenAPI 3.1 tools validate each event with).
    for (path, names) in [
        ("/api/runs/{id}/stream", vec!["event", "output", "end"]),
        ("/api/stream", vec!["locations", "location", "run"]),
    ] {
        let schema =
            &paths[path]["get"]["responses"]["200"]["content"]["text/event-stream"]["schema"];
        assert_eq!(schema["type"], "object", "{path}: {schema}");
        assert_eq!(
            schema["properties"]["event"]["enum"],
            serde_json::json!(names)
        );
        assert_eq!(schema["properties"]["data"]["type"], "string");
    }
    // Storage ids: 64-bit (a larger `after` is a 400, and the document says where the bound is).
    let after = paths["/api/runs/{id}/stream"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "after")
        .unwrap();
    assert_eq!(after["schema"]["maximum"], i64::MAX);
    assert_eq!(after["schema"]["format"], "int64");
    // A launch answers the first run; a selection spanning locations lists the runs after it.
    let launched =
        &paths["/api/runs"]["post"]["responses"]["201"]["content"]["application/json"]["schema"];
    assert_eq!(launched["$ref"], "#/components/schemas/LaunchedRun");
    let parts = doc["components"]["schemas"]["LaunchedRun"]["allOf"]
        .as_array()
        .unwrap();
    assert_eq!(parts[0]["$ref"], "#/components/schemas/Run");
    assert_eq!(
        parts[1]["properties"]["next_runs"]["items"]["required"],
        serde_json::json!(["location", "assets"])
    );
    // Exactly one of `selection` and `job`, `null` meaning not given (as the server reads it).
    let launch = &doc["components"]["schemas"]["LaunchRequest"];
    assert_eq!(launch["oneOf"].as_array().unwrap().len(), 2, "{launch}");
    assert_eq!(
        launch["properties"]["location"]["type"],
        serde_json::json!(["string", "null"])
    );
}
