//! SVG rendering speed of the lineage graph on seeded random asset graphs, laid out by
//! `dg-layout` (its own benchmark measures the layout).
//!
//! `cargo bench -p dg-server --bench render`

use dg_layout::sample::{sample_graph, SampleSpec};
use dg_layout::{layout, LayoutOptions};
use dg_server::render::graph::lineage_svg;

fn main() {
    divan::main();
}

#[divan::bench(args = [1_000, 10_000], sample_count = 10)]
fn render_svg(bencher: divan::Bencher, nodes: usize) {
    let graph = sample_graph(&SampleSpec::new(nodes, 42));
    let options = LayoutOptions::default();
    let placed = layout(&graph, &options).expect("valid graph");
    bencher.bench(|| lineage_svg(&graph, &placed, &options).into_string().len());
}
