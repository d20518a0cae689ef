//! The real `dg dev` binary (build it first: `cargo build -p dg`; `scripts/test` does) on a free
//! port of 127.0.0.1, serving a demo-like workspace of two projects with real `dagster`: the
//! `Host` check with `--allowed-host` on a live server, and Schemathesis against its OpenAPI
//! document.

#[path = "../server/common.rs"]
mod common;
mod dev;
mod schemathesis;

use dg_test::TestContext;

use crate::dev::{demo_workspace, Dev};

/// DNS rebinding on the real server: another name is refused with 403 and the fix, on GET and
/// POST, API and pages; loopback names and `--allowed-host` names pass; a bad value is a usage
/// error.
#[test]
fn allowed_host_adds_a_name_and_others_are_refused() {
    let ctx = TestContext::new();
    let bad = ctx
        .dg()
        .args(["dev", "--allowed-host", "http://dg.example/"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("`http://dg.example/` is not a host name"),
        "{stderr}"
    );

    let root = demo_workspace(&ctx);
    let dev = Dev::start(&ctx, &root, &["--allowed-host", "dg.example"]);
    let port = dev.port;
    let evil = format!("evil.example:{port}");
    for (method, path, body) in [
        ("GET", "/api/locations", ""),
        ("GET", "/api/runs", ""),
        ("GET", "/", ""),
        ("GET", "/runs", ""),
        ("POST", "/api/runs", r#"{"selection": "raw_orders"}"#),
        ("POST", "/api/locations/ingest/reload", ""),
    ] {
        let (status, text) = dev.request(method, path, &evil, body);
        assert_eq!(status, 403, "{method} {path}: {text}");
        assert!(
            text.contains(&format!("request for host `{evil}` refused"))
                && text.contains("`--allowed-host evil.example`"),
            "{method} {path}: {text}"
        );
    }
    for host in [
        format!("dg.example:{port}"),
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
    ] {
        for path in ["/api/locations", "/"] {
            let (status, text) = dev.request("GET", path, &host, "");
            assert_eq!(status, 200, "{host} {path}: {text}");
        }
    }
    let (_, runs) = dev.call("GET", "/api/runs", "");
    assert_eq!(
        runs.matches("run_id").count(),
        0,
        "a refused launch ran: {runs}"
    );
    dev.stop();
}

#[test]
fn schemathesis_finds_nothing_wrong_with_the_api() {
    schemathesis::schemathesis_finds_nothing_wrong_with_the_api();
}
