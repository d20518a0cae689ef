//! Layout speed on seeded random asset graphs (one and a half edges per node, three locations).
//!
//! `cargo bench -p dg-layout --bench layout`

use dg_layout::sample::{sample_graph, SampleSpec};
use dg_layout::{layout, LayoutOptions};

fn main() {
    divan::main();
}

#[divan::bench(args = [100, 1_000, 10_000], sample_count = 20)]
fn layout_graph(bencher: divan::Bencher, nodes: usize) {
    let graph = sample_graph(&SampleSpec::new(nodes, 42));
    let options = LayoutOptions::default();
    bencher.bench(|| layout(divan::black_box(&graph), &options).expect("valid graph"));
}
