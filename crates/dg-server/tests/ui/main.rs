//! The UI in a real headless Chromium against a real server (real listener, real Python code
//! locations, SQLite): the overview shows both locations loaded; the lineage graph draws both
//! with the cross-location edge; materializing an asset from its page leads to the run page,
//! which follows the run live until it succeeds; breaking a project's code turns its location
//! failed with the traceback on the overview (by itself) while the other location still runs
//! assets; fixing the code brings it back by itself.
//!
//! Needs Chromium (`DG_TEST_CHROMIUM`, default `chromium`; `scripts/test` installs Debian's).

mod cdp;
#[path = "../server/common.rs"]
mod common;

use std::time::Duration;

use cdp::Browser;
use common::{Fixture, ALPHA};
use dg_host::locations::watch;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ui_in_a_real_browser() {
    let f = Fixture::start().await;
    let _watcher = watch::watch(&f.host, Duration::from_millis(200)).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(dg_server::serve(
        listener,
        f.state.clone(),
        std::future::pending(),
    ));
    let definitions = f.module_file("alpha", "definitions.py");

    // The browser is synchronous: drive it on a blocking thread while the server runs.
    tokio::task::spawn_blocking(move || {
        let mut b = Browser::start();

        b.goto(&format!("{base}/"));
        b.wait_for(
            "both locations are loaded",
            "document.querySelectorAll('tr[data-location][data-status=LOADED]').length === 2",
        );

        b.goto(&format!("{base}/lineage"));
        b.wait_for("the graph is drawn", "document.querySelectorAll('svg.lineage .node').length === 4");
        assert_eq!(b.eval("document.querySelectorAll('svg.lineage .edge.cross-location').length > 0"), Some(json!(true)));
        assert_eq!(b.eval("document.querySelectorAll('svg.lineage .location-frame').length"), Some(json!(2)));
        assert_eq!(b.errors(), json!([]));

        b.goto(&format!("{base}/assets/alpha_raw"));
        assert_eq!(b.eval("document.querySelector('.description').textContent"), Some(json!("<b>raw & unescaped</b>")));
        b.eval("document.querySelector('[data-materialize]').click(); true");
        b.wait_for("the run page opens", "location.pathname.startsWith('/runs/') && !!document.querySelector('[data-run-stream]')");
        b.wait_for("the run succeeds live", "document.querySelector('[data-run-stream]').getAttribute('data-finished') === 'SUCCESS'");
        assert_eq!(b.eval("document.querySelector('[data-run-status] .badge').textContent"), Some(json!("SUCCESS")));
        assert_eq!(b.eval("!!document.querySelector('tr[data-type=ASSET_MATERIALIZATION]')"), Some(json!(true)));
        assert_eq!(b.eval("document.querySelector('[data-stdout]').textContent.includes('hello from alpha_raw')"), Some(json!(true)));
        assert_eq!(b.eval("document.querySelectorAll('tr[data-step]').length"), Some(json!(1)));
        // Live rows look like rendered ones: times to the millisecond, the step's bar drawn.
        assert_eq!(
            b.eval("Array.from(document.querySelectorAll('[data-events] td.time')).every(td => /^\\d\\d:\\d\\d:\\d\\d\\.\\d{3}$/.test(td.textContent))"),
            Some(json!(true))
        );
        assert_eq!(b.eval("!!document.querySelector('tr[data-step] svg.step-bar rect.status-success')"), Some(json!(true)));
        assert_eq!(b.errors(), json!([]));

        // Break alpha: the overview, left open, shows the failure by itself.
        b.goto(&format!("{base}/"));
        std::fs::write(&definitions, "import dagster as dg\n\nraise RuntimeError('broken on purpose')\n").unwrap();
        b.wait_for(
            "alpha fails with its traceback",
            "!!document.querySelector('tr[data-location=alpha][data-status=FAILED]') && \
             document.querySelector('#error-alpha pre.traceback').textContent.includes('broken on purpose')",
        );
        assert_eq!(b.eval("!!document.querySelector('tr[data-location=beta][data-status=LOADED]')"), Some(json!(true)));

        // The other location is still usable: materialize beta_report from its page.
        b.goto(&format!("{base}/assets/beta_report"));
        b.eval("document.querySelector('[data-materialize]').click(); true");
        b.wait_for("beta's run succeeds", "location.pathname.startsWith('/runs/') && document.querySelector('[data-run-stream]') && document.querySelector('[data-run-stream]').getAttribute('data-finished') === 'SUCCESS'");

        // Fix alpha: it reloads by itself.
        b.goto(&format!("{base}/"));
        std::fs::write(&definitions, ALPHA).unwrap();
        b.wait_for(
            "alpha is loaded again",
            "!!document.querySelector('tr[data-location=alpha][data-status=LOADED]') && !document.querySelector('#error-alpha')",
        );
        assert_eq!(b.errors(), json!([]));
    })
    .await
    .unwrap();
}
