//! The server's bounds: a client over a limit (reloads of one location, runs at once, live
//! streams) gets 429 with `Retry-After` and a JSON error; a stream ends when its client goes away,
//! even for a run that stays quiet. (Orphan monitoring is tested in `dg-host`'s `tests/host.rs`.)

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::{Fixture, BETA};
use dg_host::locations::LocationStatus;

struct Served {
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn serve(state: dg_server::AppState) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(dg_server::serve(listener, state, async move {
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
        let _ = tokio::time::timeout(Duration::from_secs(30), self.task).await;
    }
}

/// Asserts a 429 with a `Retry-After` of whole seconds and a JSON error saying `needle`.
async fn assert_limited(response: reqwest::Response, needle: &str) {
    assert_eq!(response.status(), 429);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    let body: Value = response.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(needle), "{body}");
    assert!(body["error"]["hint"].is_string(), "{body}");
}

/// Polls `check` for at most a minute (for streams: half the time the quiet run still sleeps, so
/// only noticing the closed client can end them in time).
async fn wait_until(what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_started(f: &Fixture, run_id: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let run = f.state.storage.get_run(run_id).await.unwrap().unwrap();
        if run.status == dg_storage::RunStatus::Started {
            return;
        }
        assert!(Instant::now() < deadline, "never started: {run:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn requests_over_a_limit_get_429() {
    let f = Fixture::start().await;
    let mut state = f.state.clone();
    state.runs.max_active_runs = 1;
    state.streams = Arc::new(tokio::sync::Semaphore::new(1));
    let streams = state.streams.clone();
    let runs = state.runs.clone();
    let served = serve(state).await;
    let client = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", served.base);

    // Reloads: a second request while the first is loading is refused (beta imports for minutes).
    let pids = f.dir.path().join("imports.txt");
    std::fs::write(
        f.module_file("beta", "definitions.py"),
        format!(
            "import os, time\n\nwith open({:?}, 'a') as f:\n    f.write(f'{{os.getpid()}}\\n')\n\ntime.sleep(300)\n",
            pids.display().to_string()
        ),
    )
    .unwrap();
    let first = client
        .post(url("/api/locations/beta/reload"))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 202);
    let again = client
        .post(url("/api/locations/beta/reload"))
        .send()
        .await
        .unwrap();
    assert_limited(again, "already reloading").await;
    std::fs::write(f.module_file("beta", "definitions.py"), BETA).unwrap();
    assert!(f.host.reload("beta"), "file changes are never refused");
    f.wait_for("beta loads again", |h| {
        h.location("beta").unwrap().status == LocationStatus::Loaded
    })
    .await;

    // Runs: one at a time here.
    let launch = |selection: &'static str| {
        client
            .post(url("/api/runs"))
            .json(&json!({ "selection": selection }))
            .send()
    };
    let slow = launch("alpha_slow").await.unwrap();
    assert_eq!(slow.status(), 201);
    let slow: Value = slow.json().await.unwrap();
    let slow = slow["run_id"].as_str().unwrap().to_owned();
    assert_limited(launch("alpha_raw").await.unwrap(), "runs at once").await;

    // Streams: one at a time here; one whose client goes away gives its place back at once (the
    // run goes on quietly: no event would tell the stream).
    wait_started(&f, &slow).await;
    let host_stream = client.get(url("/api/stream")).send().await.unwrap();
    assert_eq!(host_stream.status(), 200);
    let refused = client
        .get(url(&format!("/api/runs/{slow}/stream")))
        .send()
        .await
        .unwrap();
    assert_limited(refused, "live streams").await;
    drop(host_stream);
    wait_until("the closed host stream gives its place back", || {
        streams.available_permits() == 1
    })
    .await;

    // A run stream of a run that goes on quietly (it sleeps) ends when its client goes away.
    let mut run_stream = client
        .get(url(&format!("/api/runs/{slow}/stream")))
        .send()
        .await
        .unwrap();
    assert_eq!(run_stream.status(), 200);
    let mut seen = String::new();
    while !seen.contains("STEP_START") {
        let chunk = tokio::time::timeout(Duration::from_secs(60), run_stream.chunk())
            .await
            .expect("the run's events stream")
            .unwrap()
            .expect("the stream goes on");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert_eq!(streams.available_permits(), 0);
    drop(run_stream);
    wait_until("the closed run stream gives its place back", || {
        streams.available_permits() == 1
    })
    .await;
    let run = f.state.storage.get_run(&slow).await.unwrap().unwrap();
    assert_eq!(run.status, dg_storage::RunStatus::Started, "still going");

    // The run's place comes back when it ends.
    assert!(runs.cancel(&slow));
    assert_eq!(f.wait_run(&slow).await, dg_storage::RunStatus::Canceled);
    wait_until("the canceled run gives its place back", || {
        runs.running() == 0
    })
    .await;
    let quick = launch("alpha_raw").await.unwrap();
    assert_eq!(quick.status(), 201);
    let quick: Value = quick.json().await.unwrap();
    assert_eq!(
        f.wait_run(quick["run_id"].as_str().unwrap()).await,
        dg_storage::RunStatus::Success
    );
    served.shutdown().await;
}
