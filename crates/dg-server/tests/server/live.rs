//! On a real listener (`127.0.0.1:0`, reqwest): the OpenAPI document, the host stream, a run's
//! event stream to its `end`, cancellation of a running run, and graceful shutdown.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::common::Fixture;

struct Served {
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn serve(f: &Fixture) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(dg_server::serve(listener, f.state.clone(), async move {
        let _ = stopped.await;
    }));
    Served {
        base,
        stop: Some(stop),
        task,
    }
}

impl Served {
    async fn shutdown(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .expect("the server stops although streams are open")
            .unwrap()
            .unwrap();
    }
}

/// Reads an SSE response until `until` is in the text (or the stream ends).
async fn read_sse(response: reqwest::Response, until: &str) -> String {
    let mut text = String::new();
    let mut stream = response.bytes_stream();
    let read = async {
        while let Some(chunk) = stream.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
            if text.contains(until) {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(120), read)
        .await
        .unwrap_or_else(|_| panic!("no `{until}` in the stream"));
    text
}

pub async fn streams_on_a_real_listener() {
    let f = Fixture::start().await;
    let served = serve(&f).await;
    let client = reqwest::Client::new();

    let doc: Value = client
        .get(format!("{}/api/openapi.json", served.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");

    let host_stream = client
        .get(format!("{}/api/stream", served.base))
        .send()
        .await
        .unwrap();
    assert_eq!(host_stream.headers()["content-type"], "text/event-stream");

    let run: Value = client
        .post(format!("{}/api/runs", served.base))
        .json(&json!({"selection": "alpha_raw"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = run["run_id"].as_str().unwrap().to_owned();
    let stream = client
        .get(format!("{}/api/runs/{id}/stream", served.base))
        .send()
        .await
        .unwrap();
    let text = read_sse(stream, "event: end").await;
    assert!(
        text.contains("event: end\ndata: {\"status\":\"SUCCESS\"}"),
        "{text}"
    );
    let events: Vec<Value> = text
        .split("\n\n")
        .filter(|m| m.contains("event: event"))
        .map(|m| {
            serde_json::from_str(m.lines().find_map(|l| l.strip_prefix("data: ")).unwrap()).unwrap()
        })
        .collect();
    let types: Vec<&str> = events
        .iter()
        .map(|e| e["event"]["type"].as_str().unwrap())
        .collect();
    assert!(
        types.contains(&"ASSET_MATERIALIZATION") && types.last() == Some(&"RUN_SUCCESS"),
        "{types:?}"
    );
    let ids: Vec<i64> = events
        .iter()
        .map(|e| e["storage_id"].as_i64().unwrap())
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "in storage order: {ids:?}"
    );

    // Resuming after the third event sends only the rest.
    let resumed = client
        .get(format!("{}/api/runs/{id}/stream", served.base))
        .header("Last-Event-ID", ids[2].to_string())
        .send()
        .await
        .unwrap();
    let text = read_sse(resumed, "event: end").await;
    assert_eq!(text.matches("event: event").count(), ids.len() - 3);

    // The host stream started with every location, and reports a reload.
    client
        .post(format!("{}/api/locations/beta/reload", served.base))
        .send()
        .await
        .unwrap();
    let text = read_sse(host_stream, "\"status\":\"loaded\",\"generation\":2").await;
    assert!(text.starts_with("event: locations\n"), "{text}");
    assert!(text.contains("event: location\ndata: {\"type\":\"location\",\"name\":\"beta\",\"status\":\"loading\""), "{text}");
    served.shutdown().await;
}

pub async fn a_run_is_canceled() {
    let f = Fixture::start().await;
    let served = serve(&f).await;
    let client = reqwest::Client::new();
    let run: Value = client
        .post(format!("{}/api/runs", served.base))
        .json(&json!({"selection": "alpha_slow"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = run["run_id"].as_str().unwrap().to_owned();
    let stream = client
        .get(format!("{}/api/runs/{id}/stream", served.base))
        .send()
        .await
        .unwrap();
    read_sse(stream, "STEP_START").await;
    let answer = client
        .post(format!("{}/api/runs/{id}/cancel", served.base))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202);
    assert_eq!(f.wait_run(&id).await, dg_storage::RunStatus::Canceled);
    served.shutdown().await;
}

/// Every route is in the document, and a generic validator (`openapi-spec-validator`, run with
/// uv from PyPI) accepts it.
pub fn openapi_document() {
    let doc = dg_server::api::openapi::spec();
    let paths = doc["paths"].as_object().unwrap();
    for route in [
        "/api/locations",
        "/api/locations/{name}",
        "/api/locations/{name}/reload",
        "/api/assets",
        "/api/assets/{key}",
        "/api/runs",
        "/api/runs/{id}",
        "/api/runs/{id}/events",
        "/api/runs/{id}/cancel",
        "/api/runs/{id}/stream",
        "/api/stream",
    ] {
        assert!(paths.contains_key(route), "{route} is not documented");
    }
    assert!(paths["/api/runs"].get("post").is_some());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let output = std::process::Command::new("uvx")
        .args([
            "--python",
            "3.11",
            "--from",
            "openapi-spec-validator==0.7.1",
            "openapi-spec-validator",
        ])
        .arg(&file)
        .env(dg_core::env::UV_PYTHON_DOWNLOADS, "never")
        .output()
        .expect("uvx runs (install uv)");
    assert!(
        output.status.success(),
        "openapi-spec-validator refused the document:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
