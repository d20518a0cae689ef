//! DNS rebinding: a request for another host name (`Host: evil.example:3000`, as a browser sends
//! it once `evil.example` resolves to this machine, with a matching `Origin` and
//! `Sec-Fetch-Site: same-origin`) is refused with 403 on every route, GET and POST, API, pages,
//! static files and live streams, in-process and on a real listener; the loopback names and
//! `--allowed-host` names pass.

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use dg_server::allowed_hosts::AllowedHosts;
use dg_server::AppState;
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

use crate::common::Fixture;

const EVIL: &str = "evil.example:3000";

/// Every kind of route: (method, path, JSON body).
const ROUTES: &[(Method, &str, &str)] = &[
    (Method::GET, "/api/locations", ""),
    (Method::GET, "/api/locations/alpha", ""),
    (Method::GET, "/api/assets?selection=*", ""),
    (Method::GET, "/api/assets/alpha_raw", ""),
    (Method::GET, "/api/runs", ""),
    (Method::GET, "/api/openapi.json", ""),
    (Method::GET, "/api/stream", ""),
    (Method::POST, "/api/runs", r#"{"selection":"alpha_raw"}"#),
    (Method::POST, "/api/locations/alpha/reload", ""),
    (Method::GET, "/", ""),
    (Method::GET, "/assets", ""),
    (Method::GET, "/assets/alpha_raw", ""),
    (Method::GET, "/lineage", ""),
    (Method::GET, "/runs", ""),
    (Method::GET, "/launch", ""),
    (Method::POST, "/runs", "selection=alpha_raw"),
    (Method::POST, "/locations/alpha/reload", ""),
    (Method::GET, "/static/pages.css", ""),
];

/// A request as a page served under `host` sends it (same-origin in the browser's eyes).
fn as_page_of(host: &str, method: &Method, path: &str, body: &str) -> Request<Body> {
    let mut request = Request::builder()
        .method(method.clone())
        .uri(path)
        .header(header::HOST, host)
        .header("sec-fetch-site", "same-origin");
    if *method == Method::POST {
        let content_type = if path.starts_with("/api/") {
            "application/json"
        } else {
            "application/x-www-form-urlencoded"
        };
        request = request
            .header(header::ORIGIN, format!("http://{host}"))
            .header(header::CONTENT_TYPE, content_type);
    }
    request.body(Body::from(body.to_owned())).unwrap()
}

async fn call(state: &AppState, request: Request<Body>) -> (StatusCode, String, String) {
    let response = dg_server::app(state.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    // Streams answer 200 at once and go on: read only the head of those.
    let body = if content_type.starts_with("text/event-stream") {
        String::new()
    } else {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    (status, content_type, body)
}

fn assert_refused(what: &str, status: StatusCode, content_type: &str, body: &str) {
    assert_eq!(status, StatusCode::FORBIDDEN, "{what}: {body}");
    assert!(
        body.contains("request for host `evil.example:3000` refused")
            && body.contains("`localhost`, `127.0.0.1`, `[::1]`")
            && body.contains("`--allowed-host evil.example`"),
        "{what}: the refusal names the host, the allowed names and the fix: {body}"
    );
    let expected = if what.contains(" /api/") {
        "application/json"
    } else {
        "text/plain"
    };
    assert!(content_type.starts_with(expected), "{what}: {content_type}");
}

pub async fn other_host_names_are_refused() {
    let f = Fixture::start().await;
    let state = f.state.clone();

    for (method, path, body) in ROUTES {
        let what = format!("{method} {path}");
        let (status, content_type, text) = call(&state, as_page_of(EVIL, method, path, body)).await;
        assert_refused(&what, status, &content_type, &text);
    }
    // An absolute request target for another name is refused even with our own `Host`.
    let absolute = Request::get("http://evil.example:3000/api/locations")
        .header(header::HOST, "127.0.0.1:3000")
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(&state, absolute).await.0, StatusCode::FORBIDDEN);
    // A second, foreign `Host` header does not slip through behind ours.
    let doubled = Request::get("/api/locations")
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::HOST, EVIL)
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(&state, doubled).await.0, StatusCode::FORBIDDEN);
    // Nothing was started or reloaded by the refused requests.
    assert!(state
        .storage
        .list_runs(&Default::default())
        .await
        .unwrap()
        .is_empty());
    assert!(f.host.locations().iter().all(|l| l.generation == 1));

    // The loopback names pass, on any port (an ssh tunnel reaches us through another one).
    for host in [
        "localhost:3000",
        "127.0.0.1:3000",
        "[::1]:3000",
        "LocalHost:8080",
    ] {
        for path in ["/api/locations", "/", "/api/stream"] {
            let (status, _, text) = call(&state, as_page_of(host, &Method::GET, path, "")).await;
            assert_eq!(status, StatusCode::OK, "{host} {path}: {text}");
        }
        // A POST gets past the guards to the handler (which refuses the unknown asset).
        let request = as_page_of(
            host,
            &Method::POST,
            "/api/runs",
            r#"{"selection":"no_such_asset"}"#,
        );
        let (status, _, text) = call(&state, request).await;
        assert!(
            status.is_client_error() && status != StatusCode::FORBIDDEN,
            "{host}: {status} {text}"
        );
    }

    // `--allowed-host` adds a name; others are still refused.
    let extra = state.clone().with_allowed_hosts(AllowedHosts::for_bind(
        "127.0.0.1",
        vec!["dg.example".parse().unwrap()],
    ));
    let (status, _, text) = call(
        &extra,
        as_page_of("dg.example:3000", &Method::GET, "/api/locations", ""),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let (status, content_type, text) =
        call(&extra, as_page_of(EVIL, &Method::GET, "/api/locations", "")).await;
    assert_refused("GET /api/locations", status, &content_type, &text);
    assert!(text.contains("`dg.example`"), "{text}");

    // Bound to every address: IP addresses pass, names need `--allowed-host`.
    let everywhere = state
        .clone()
        .with_allowed_hosts(AllowedHosts::for_bind("0.0.0.0", Vec::new()));
    for (host, expected) in [
        ("192.168.1.5:3000", StatusCode::OK),
        ("mybox.lan:3000", StatusCode::FORBIDDEN),
        (EVIL, StatusCode::FORBIDDEN),
    ] {
        let (status, _, text) = call(
            &everywhere,
            as_page_of(host, &Method::GET, "/api/locations", ""),
        )
        .await;
        assert_eq!(status, expected, "{host}: {text}");
    }

    on_a_real_listener(&f).await;
}

/// The status line and head of one raw HTTP/1.1 request (the body is not awaited: streams).
async fn raw(addr: &str, method: &Method, path: &str, host: &str, body: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    if *method == Method::POST {
        request.push_str(&format!(
            "Origin: http://{host}\r\nSec-Fetch-Site: same-origin\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).await.unwrap();
            head.extend_from_slice(&buf[..n]);
            if n == 0 || head.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .unwrap_or_else(|_| panic!("no answer to {method} {path}"));
    String::from_utf8_lossy(&head).into_owned()
}

async fn on_a_real_listener(f: &Fixture) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let port = listener.local_addr().unwrap().port();
    let state = f.state.clone().with_allowed_hosts(AllowedHosts::for_bind(
        "127.0.0.1",
        vec!["dg.example".parse().unwrap()],
    ));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(dg_server::serve(listener, state, async move {
        let _ = stopped.await;
    }));

    let evil = format!("evil.example:{port}");
    for (method, path, body) in [
        (Method::GET, "/api/stream", ""),
        (Method::GET, "/api/runs/anything/stream", ""),
        (Method::GET, "/api/locations", ""),
        (Method::GET, "/runs", ""),
        (Method::POST, "/api/runs", r#"{"selection":"alpha_raw"}"#),
    ] {
        let head = raw(&addr, &method, path, &evil, body).await;
        assert!(
            head.starts_with("HTTP/1.1 403"),
            "{method} {path} for {evil}: {head}"
        );
    }
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("dg.example:{port}"),
    ] {
        let head = raw(&addr, &Method::GET, "/api/stream", &host, "").await;
        assert!(
            head.starts_with("HTTP/1.1 200") && head.contains("text/event-stream"),
            "{host}: {head}"
        );
    }
    assert!(f
        .state
        .storage
        .list_runs(&Default::default())
        .await
        .unwrap()
        .is_empty());

    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
}
