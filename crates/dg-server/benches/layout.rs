//! Layout speed on seeded random asset graphs (one and a half edges per node, three locations).
//!
//! `cargo bench -p dg-server --bench layout`

use dg_server::layout::{layout, LayoutOptions};
use dg_server::render::graph::lineage_svg;
use dg_server::sample::{sample_graph, SampleSpec};

fn main() {
    divan::main();
}

#[divan::bench(args = [100, 1_000, 10_000], sample_count = 20)]
fn layout_graph(bencher: divan::Bencher, nodes: usize) {
    let graph = sample_graph(&SampleSpec::new(nodes, 42));
    let options = LayoutOptions::default();
    bencher.bench(|| layout(divan::black_box(&graph), &options).expect("valid graph"));
}

#[divan::bench(args = [1_000, 10_000], sample_count = 10)]
fn render_svg(bencher: divan::Bencher, nodes: usize) {
    let graph = sample_graph(&SampleSpec::new(nodes, 42));
    let options = LayoutOptions::default();
    let placed = layout(&graph, &options).expect("valid graph");
    bencher.bench(|| lineage_svg(&graph, &placed, &options).into_string().len());
}
