//! The lineage page in a real headless Chromium: the script fits, zooms, pans, swallows the click
//! that ends a drag, highlights a node's edges on hover, and raises no errors.
//!
//! Needs Chromium (`DG_TEST_CHROMIUM`, default `chromium` on `PATH`; `scripts/test` installs it).
//! A missing browser fails the test with the fix rather than skipping it.

use std::path::Path;

use dg_layout::sample::{sample_graph, SampleSpec};
use dg_layout::{layout, LayoutOptions};
use dg_server::render::assets::ALL;
use dg_server::render::graph::{asset_url, lineage_view};
use dg_server::render::page::{page_at, Nav};
use serde_json::Value;

const PROBE: &str = include_str!("probe.js");

/// Writes the lineage page for a 60-node sample, with the probe script, into `dir`.
fn write_page(dir: &Path) -> String {
    let graph = sample_graph(&SampleSpec::new(60, 11));
    let options = LayoutOptions::default();
    let placed = layout(&graph, &options).expect("sample graphs are valid");
    let html = page_at(
        "static",
        "Lineage",
        Nav::Lineage,
        lineage_view(&graph, &placed, &options),
    )
    .into_string();
    // Deferred scripts run in document order, so the probe runs after lineage.js set up the graph.
    let html = html.replace(
        "</head>",
        r#"<script src="probe.js" defer></script></head>"#,
    );
    std::fs::create_dir_all(dir.join("static")).unwrap();
    for file in ALL {
        std::fs::write(dir.join("static").join(file.name), file.body).unwrap();
    }
    std::fs::write(dir.join("probe.js"), PROBE).unwrap();
    std::fs::write(dir.join("index.html"), html).unwrap();
    asset_url(&graph.nodes[0].id)
}

fn dump_dom(dir: &Path) -> (String, String) {
    let mut browser = dg_test::chromium::HeadlessChromium::new(1200, 800);
    let output = browser
        .command
        .args([
            "--enable-logging=stderr",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("file://{}", dir.join("index.html").display()))
        .output()
        .unwrap_or_else(|e| browser.start_failed(e));
    let chromium = &browser.program;
    assert!(output.status.success(), "{chromium} failed: {output:?}");
    (
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn view_box(v: &Value) -> [f64; 4] {
    let a: Vec<f64> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    [a[0], a[1], a[2], a[3]]
}

#[test]
fn lineage_graph_pans_zooms_and_links() {
    let dir = tempfile::tempdir().unwrap();
    let first_url = write_page(dir.path());
    let (dom, log) = dump_dom(dir.path());
    assert!(
        !log.contains("Uncaught"),
        "script error in the browser:\n{log}"
    );
    let json = dom
        .split(r#"<pre id="probe">"#)
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .unwrap_or_else(|| panic!("the probe did not run; browser log:\n{log}"));
    let json = json.replace("&quot;", "\"").replace("&amp;", "&");
    let out: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(out["errors"], Value::Array(vec![]));

    let canvas = out["canvas"].as_array().unwrap();
    let (cw, ch) = (canvas[0].as_f64().unwrap(), canvas[1].as_f64().unwrap());
    let fitted = view_box(&out["fitted"]);
    // Fitted: the viewBox has the element's aspect ratio and is larger than the canvas (zoomed out).
    assert!(
        (fitted[2] / fitted[3] - cw / ch).abs() < 0.01,
        "{fitted:?} vs {cw}x{ch}"
    );
    assert!(fitted[2] > cw);

    let zoomed = view_box(&out["zoomed"]);
    assert!(zoomed[2] < fitted[2] * 0.8, "wheel up zooms in: {zoomed:?}");

    let panned = view_box(&out["panned"]);
    let scale = cw / zoomed[2];
    assert!(
        (zoomed[0] - panned[0] - 60.0 / scale).abs() < 0.5,
        "{zoomed:?} -> {panned:?}"
    );
    assert!((zoomed[1] - panned[1] - 20.0 / scale).abs() < 0.5);
    assert_eq!(zoomed[2], panned[2]);

    // The click that ends a drag is stopped before it reaches the document (no navigation); the
    // next one is a normal, uncancelled click-through.
    assert_eq!(out["dispatched"], 2);
    assert_eq!(out["clicks"], serde_json::json!([false]));
    assert_eq!(out["href"], first_url.as_str());

    assert!(out["expected"].as_u64().unwrap() > 0);
    assert_eq!(out["highlighted"], out["expected"]);
    assert_eq!(out["focus"], true);

    assert!(view_box(&out["zoomedOut"])[2] > panned[2]);
    assert_eq!(view_box(&out["refitted"]), fitted);
}
