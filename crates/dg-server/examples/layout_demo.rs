//! Writes `target/layout-demo.html`: the lineage page for a sample graph, to look at in a browser.
//!
//! `cargo run -p dg-server --example layout_demo [nodes] [seed]` (default: 200 nodes in three code
//! locations). The stylesheet and script go next to it in `target/layout-demo-static/`, so the page
//! loads them exactly as it would from the server, only from a relative path.

use std::path::PathBuf;

use dg_layout::sample::{sample_graph, SampleSpec};
use dg_layout::{layout, LayoutOptions};
use dg_server::render::assets::ALL;
use dg_server::render::graph::lineage_view;
use dg_server::render::page::{page_at, Nav};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let nodes = args.next().map(|a| a.parse()).transpose()?.unwrap_or(200);
    let seed = args.next().map(|a| a.parse()).transpose()?.unwrap_or(7);
    let mut spec = SampleSpec::new(nodes, seed);
    spec.cycles = 1;
    let graph = sample_graph(&spec);
    let options = LayoutOptions::default();
    let placed = layout(&graph, &options)?;

    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target");
    let static_dir = target.join("layout-demo-static");
    std::fs::create_dir_all(&static_dir)?;
    for file in ALL {
        std::fs::write(static_dir.join(file.name), file.body)?;
    }
    let html = page_at(
        "layout-demo-static",
        "Lineage",
        Nav::Lineage,
        lineage_view(&graph, &placed, &options),
    );
    std::fs::write(target.join("layout-demo.html"), html.into_string())?;
    Ok(())
}
