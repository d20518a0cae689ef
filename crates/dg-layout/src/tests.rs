//! Property tests of the layout over many seeded random graphs, and edge cases.

use super::coords::{place_around, place_in_band};
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
        assert_eq!((edge.points.len() - 1) % 3, 0, "{edge:?} is not cubic");
        let (first, last) = (edge.points[0], *edge.points.last().unwrap());
        if edge.from == edge.to {
            assert_eq!(first.x, from.rect.right());
        } else if edge.reversed {
            assert!(
                from.layer > to.layer,
                "reversed edge {edge:?} points forward"
            );
            assert_eq!((first.x, last.x), (from.rect.x, to.rect.right()));
        } else {
            assert!(from.layer < to.layer, "edge {edge:?} does not point right");
            assert!(from.rect.right() + options.layer_gap <= to.rect.x + 1e-9);
            assert_eq!((first.x, last.x), (from.rect.right(), to.rect.x));
            // Left to right all the way: every segment's points are in x order.
            for pair in edge.points.windows(2) {
                assert!(pair[0].x <= pair[1].x + 1e-9, "{edge:?} turns back");
            }
        }
        if edge.from != edge.to {
            assert_eq!(first.y, from.rect.y + from.rect.height / 2.0);
            assert_eq!(last.y, to.rect.y + to.rect.height / 2.0);
        }
        let cross = graph.nodes[edge.from].location != graph.nodes[edge.to].location;
        assert_eq!(edge.cross_location, cross);
    }
    check_edges_avoid_nodes(layout);
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

/// A point on a cubic Bézier segment at parameter `t`.
fn cubic(p: &[Point], t: f64) -> Point {
    let u = 1.0 - t;
    let (a, b, c, d) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
    Point {
        x: a * p[0].x + b * p[1].x + c * p[2].x + d * p[3].x,
        y: a * p[0].y + b * p[1].y + c * p[2].y + d * p[3].y,
    }
}

/// No edge path runs through the box of a node other than its two ends (sampled densely: 32
/// points per segment, nodes looked up by column).
fn check_edges_avoid_nodes(layout: &Layout) {
    let mut columns: Vec<(f64, f64, Vec<usize>)> = Vec::new();
    for (i, node) in layout.nodes.iter().enumerate() {
        if columns.len() <= node.layer {
            columns.resize(node.layer + 1, (0.0, 0.0, Vec::new()));
        }
        let column = &mut columns[node.layer];
        column.0 = node.rect.x;
        column.1 = node.rect.right();
        column.2.push(i);
    }
    for edge in &layout.edges {
        for segment in edge.points.windows(4).step_by(3) {
            for k in 0..=32 {
                let p = cubic(segment, f64::from(k) / 32.0);
                let Some(column) = columns.iter().find(|c| c.0 < p.x && p.x < c.1) else {
                    continue;
                };
                for &i in &column.2 {
                    if i == edge.from || i == edge.to {
                        continue;
                    }
                    let r = &layout.nodes[i].rect;
                    let inside = r.x < p.x && p.x < r.right() && r.y < p.y && p.y < r.bottom();
                    assert!(
                        !inside,
                        "edge {edge:?} runs through node {i} {r:?} at {p:?}"
                    );
                }
            }
        }
    }
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
    let pitch = [0.0, 50.0, 100.0];
    // Both want the same spot: they share it symmetrically.
    assert_eq!(
        place_in_band(&[100.0, 100.0], &pitch[..2], 0.0, 500.0),
        [75.0, 125.0]
    );
    // Pulled above the band: clamped to its first row.
    assert_eq!(
        place_in_band(&[-80.0, 0.0], &pitch[..2], 10.0, 500.0),
        [10.0, 60.0]
    );
    // Pulled below: the last node sits on the last row.
    assert_eq!(
        place_in_band(&[900.0, 950.0], &pitch[..2], 0.0, 200.0),
        [150.0, 200.0]
    );
    // Already fine: unchanged.
    assert_eq!(
        place_in_band(&[0.0, 70.0, 300.0], &pitch, 0.0, 400.0),
        [0.0, 70.0, 300.0]
    );
    // Uneven gaps (a dummy between two nodes) are kept too.
    assert_eq!(
        place_in_band(&[0.0, 0.0, 0.0], &[0.0, 54.0, 64.0], 0.0, 400.0),
        [0.0, 54.0, 64.0]
    );
}

#[test]
fn place_around_keeps_free_edges_out_of_frames() {
    let blocked = [(100.0, 200.0), (230.0, 400.0)];
    // Free, nearer the top, nearer the bottom, in the corridor, pushed along it, and pushed out
    // of it below the next frame (no room left above).
    let wanted = [
        (50.0, 0),
        (120.0, 1),
        (190.0, 2),
        (215.0, 3),
        (216.0, 4),
        (226.0, 5),
    ];
    assert_eq!(
        place_around(&wanted, &blocked, 10.0),
        [50.0, 100.0, 200.0, 215.0, 225.0, 400.0]
    );
}

#[test]
fn a_long_edge_goes_around_the_nodes_in_between() {
    // The demo's shape: raw_customers -> cleaned_orders -> daily_revenue -> customer_report, and
    // raw_customers -> customer_report directly, across two locations.
    let graph = GraphInput {
        nodes: vec![
            node("raw_customers", "ingest", "raw"),
            node("raw_orders", "ingest", "raw"),
            node("cleaned_orders", "ingest", "clean"),
            node("daily_revenue", "reports", "reports"),
            node("customer_report", "reports", "reports"),
        ],
        edges: vec![(0, 2), (1, 2), (2, 3), (3, 4), (0, 4)],
    };
    let options = LayoutOptions::default();
    let out = layout(&graph, &options).unwrap();
    check(&graph, &out, &options);
    let long = &out.edges[4];
    // Two columns passed: two straight runs (or one when level), each a bend and a line.
    assert!(long.points.len() > 3 * 3, "{long:?}");
    for middle in [2, 3] {
        let r = &out.nodes[middle].rect;
        let passing = long
            .points
            .iter()
            .filter(|p| p.x >= r.x && p.x <= r.right())
            .map(|p| p.y);
        for y in passing {
            assert!(y < r.y || y > r.bottom(), "{long:?} crosses {r:?}");
        }
    }
}

#[test]
fn fans_share_their_trunk() {
    // 0 feeds a chain 1 -> 2 -> 3 -> 4 at every step: three long edges out of 0.
    let graph = chain_graph(5, &[(0, 1), (1, 2), (2, 3), (3, 4), (0, 2), (0, 3), (0, 4)]);
    let options = LayoutOptions::default();
    let out = layout(&graph, &options).unwrap();
    check(&graph, &out, &options);
    let dag = acyclic::Dag::new(5, &graph.edges);
    let layers = layering::assign_layers(&dag);
    let proper = dummies::Proper::new(&dag, &layers, &graph.edges);
    // The edges out of 0 share its trunk over columns 1 and 2; the two reaching 3 and 4 end in
    // the incoming trunks of 3 (column 2) and 4 (column 3): four dummies, not 1 + 2 + 3.
    assert_eq!(proper.count - proper.real, 4);
}
