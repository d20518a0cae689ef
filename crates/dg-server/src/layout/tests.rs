//! Property tests of the layout over many seeded random graphs, and edge cases.

use super::coords::place_in_band;
use super::*;
use crate::sample::{sample_graph, SampleSpec};

fn node(id: &str, location: &str, group: &str) -> NodeIn {
    NodeIn {
        id: id.to_owned(),
        label: id.to_owned(),
        group: group.to_owned(),
        location: location.to_owned(),
        status: NodeStatus::Materialized,
    }
}

fn chain_graph(n: usize, edges: &[(usize, usize)]) -> GraphInput {
    GraphInput {
        nodes: (0..n)
            .map(|i| node(&format!("n{i}"), "loc", "grp"))
            .collect(),
        edges: edges.to_vec(),
    }
}

fn specs() -> Vec<SampleSpec> {
    let mut specs = Vec::new();
    for seed in 0..40 {
        let nodes = [1, 2, 5, 17, 60, 150][seed as usize % 6];
        let mut spec = SampleSpec::new(nodes, seed);
        spec.locations = 1 + seed as usize % 4;
        spec.groups_per_location = 1 + seed as usize % 3;
        spec.cycles = if seed % 3 == 0 { nodes / 5 } else { 0 };
        specs.push(spec);
    }
    specs
}

/// Checks every structural promise of the layout.
fn check(graph: &GraphInput, layout: &Layout, options: &LayoutOptions) {
    assert_eq!(layout.nodes.len(), graph.nodes.len());
    assert_eq!(layout.edges.len(), graph.edges.len());
    let canvas = Rect {
        x: 0.0,
        y: 0.0,
        width: layout.width,
        height: layout.height,
    };
    for (i, a) in layout.nodes.iter().enumerate() {
        assert!(
            canvas.contains(&a.rect),
            "node {i} {:?} outside {canvas:?}",
            a.rect
        );
        for b in &layout.nodes[i + 1..] {
            assert!(!a.rect.overlaps(&b.rect), "{a:?} overlaps {b:?}");
            if a.layer == b.layer {
                assert_ne!(a.order, b.order);
                assert_eq!(a.order < b.order, a.rect.y < b.rect.y);
            }
        }
    }
    for edge in &layout.edges {
        let (from, to) = (&layout.nodes[edge.from], &layout.nodes[edge.to]);
        if edge.reversed {
            assert!(
                from.layer >= to.layer,
                "reversed edge {edge:?} points forward"
            );
        } else {
            assert!(from.layer < to.layer, "edge {edge:?} does not point right");
            assert!(from.rect.right() + options.layer_gap <= to.rect.x + 1e-9);
        }
        assert_eq!(edge.points.len(), 4);
        assert_eq!(edge.points[0].x, from.rect.right());
        let cross = graph.nodes[edge.from].location != graph.nodes[edge.to].location;
        assert_eq!(edge.cross_location, cross);
    }
    for frames in [&layout.groups, &layout.locations] {
        for (i, a) in frames.iter().enumerate() {
            assert!(canvas.contains(&a.rect), "frame {a:?} outside {canvas:?}");
            for b in &frames[i + 1..] {
                assert!(!a.rect.overlaps(&b.rect), "{a:?} overlaps {b:?}");
            }
        }
    }
    for (i, n) in graph.nodes.iter().enumerate() {
        let rect = &layout.nodes[i].rect;
        let group = layout
            .groups
            .iter()
            .find(|g| g.location == n.location && g.group.as_deref() == Some(n.group.as_str()))
            .expect("every node has a group frame");
        assert!(group.rect.contains(rect), "{rect:?} outside {group:?}");
        let location = layout.locations.iter().find(|l| l.location == n.location);
        assert!(location.expect("location frame").rect.contains(&group.rect));
    }
    let counted: usize = layout.groups.iter().map(|g| g.node_count).sum();
    assert_eq!(counted, graph.nodes.len());
}

#[test]
fn random_graphs_keep_every_promise() {
    let options = LayoutOptions::default();
    for spec in specs() {
        let graph = sample_graph(&spec);
        let out = layout(&graph, &options).unwrap();
        check(&graph, &out, &options);
    }
}

#[test]
fn output_is_deterministic() {
    let options = LayoutOptions::default();
    for spec in specs().into_iter().step_by(5) {
        let graph = sample_graph(&spec);
        assert_eq!(layout(&graph, &options), layout(&graph, &options));
    }
}

#[test]
fn cycles_and_self_loops_terminate_and_are_flagged() {
    let graph = chain_graph(4, &[(0, 1), (1, 2), (2, 0), (3, 3), (2, 3), (3, 1)]);
    let options = LayoutOptions::default();
    let out = layout(&graph, &options).unwrap();
    check(&graph, &out, &options);
    let reversed: Vec<bool> = out.edges.iter().map(|e| e.reversed).collect();
    assert_eq!(reversed, [false, false, true, true, false, true]);
    assert_eq!(out.layer_count, 4);
}

#[test]
fn a_ring_of_ten_thousand_does_not_recurse_or_hang() {
    let n = 10_000;
    let edges: Vec<(usize, usize)> = (0..n).map(|i| (i, (i + 1) % n)).collect();
    let out = layout(&chain_graph(n, &edges), &LayoutOptions::default()).unwrap();
    assert_eq!(out.edges.iter().filter(|e| e.reversed).count(), 1);
    assert_eq!(out.layer_count, n);
}

#[test]
fn wide_fans_in_and_out_stay_apart() {
    // 600 sources feed one hub, which feeds 600 sinks, in two groups of one location.
    let n = 1201;
    let hub = 600;
    let mut graph = chain_graph(n, &[]);
    for (i, node) in graph.nodes.iter_mut().enumerate() {
        node.group = if i <= hub { "in" } else { "out" }.to_owned();
    }
    graph.edges = (0..hub).map(|i| (i, hub)).collect();
    graph.edges.extend((hub + 1..n).map(|i| (hub, i)));
    let options = LayoutOptions::default();
    let out = layout(&graph, &options).unwrap();
    check(&graph, &out, &options);
    assert_eq!(out.layer_count, 3);
    // The hub sits level with the middle of its fans.
    let hub_y = out.nodes[hub].rect.y;
    let first = out.nodes[0].rect.y.min(out.nodes[hub + 1].rect.y);
    assert!(hub_y > first + 200.0 * (options.node_height + options.node_gap));
}

#[test]
fn empty_graph_and_bad_edges() {
    let out = layout(&GraphInput::default(), &LayoutOptions::default()).unwrap();
    assert!(out.nodes.is_empty() && out.width > 0.0);
    let err = layout(
        &chain_graph(2, &[(0, 1), (1, 5)]),
        &LayoutOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "edge #1 (1 -> 5) names a node outside 0..2"
    );
}

#[test]
fn sources_move_next_to_their_consumer() {
    // 0 -> 1 -> 2 -> 3, and a lone source 4 feeding 3: 4 belongs in layer 2, not layer 0.
    let out = layout(
        &chain_graph(5, &[(0, 1), (1, 2), (2, 3), (4, 3)]),
        &LayoutOptions::default(),
    )
    .unwrap();
    let layers: Vec<usize> = out.nodes.iter().map(|n| n.layer).collect();
    assert_eq!(layers, [0, 1, 2, 3, 2]);
}

/// Crossings between edges joining adjacent layers, counted pairwise.
fn crossings(layout: &Layout) -> usize {
    let spans: Vec<(usize, usize, usize)> = layout
        .edges
        .iter()
        .map(|e| (&layout.nodes[e.from], &layout.nodes[e.to]))
        .filter(|(a, b)| b.layer == a.layer + 1)
        .map(|(a, b)| (a.layer, a.order, b.order))
        .collect();
    let mut count = 0;
    for (i, a) in spans.iter().enumerate() {
        for b in &spans[i + 1..] {
            if a.0 == b.0 && (a.1 < b.1 && a.2 > b.2 || a.1 > b.1 && a.2 < b.2) {
                count += 1;
            }
        }
    }
    count
}

#[test]
fn sweeps_untangle_a_twisted_bipartite_graph() {
    // Sources 0..5 feed sinks in reverse order: the initial order crosses every pair.
    let edges: Vec<(usize, usize)> = (0..5).map(|i| (i, 9 - i)).collect();
    let graph = chain_graph(10, &edges);
    let options = LayoutOptions {
        max_sweeps: 2,
        ..LayoutOptions::default()
    };
    let out = layout(&graph, &options).unwrap();
    assert_eq!(crossings(&out), 0);
}

#[test]
fn groups_and_locations_get_separate_frames() {
    let graph = GraphInput {
        nodes: vec![
            node("a", "one", "g1"),
            node("b", "one", "g2"),
            node("c", "two", "g1"),
        ],
        edges: vec![(0, 1), (1, 2)],
    };
    let options = LayoutOptions::default();
    let out = layout(&graph, &options).unwrap();
    check(&graph, &out, &options);
    let names: Vec<(&str, Option<&str>)> = out
        .groups
        .iter()
        .map(|g| (g.location.as_str(), g.group.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            ("one", Some("g1")),
            ("one", Some("g2")),
            ("two", Some("g1"))
        ]
    );
    assert_eq!(out.locations.len(), 2);
    assert!(out.edges[1].cross_location && !out.edges[0].cross_location);
}

#[test]
fn place_in_band_keeps_order_spacing_and_bounds() {
    // Both want the same spot: they share it symmetrically.
    assert_eq!(
        place_in_band(&[100.0, 100.0], 50.0, 0.0, 500.0),
        [75.0, 125.0]
    );
    // Pulled above the band: clamped to its first row.
    assert_eq!(
        place_in_band(&[-80.0, 0.0], 50.0, 10.0, 500.0),
        [10.0, 60.0]
    );
    // Pulled below: the last node sits on the last row.
    assert_eq!(
        place_in_band(&[900.0, 950.0], 50.0, 0.0, 200.0),
        [150.0, 200.0]
    );
    // Already fine: unchanged.
    assert_eq!(
        place_in_band(&[0.0, 70.0, 300.0], 50.0, 0.0, 400.0),
        [0.0, 70.0, 300.0]
    );
}
