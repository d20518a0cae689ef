//! The lineage graph as inline SVG, with a toolbar and a legend.
//!
//! Nodes are links to their asset page, so the graph works without JavaScript; `lineage.js` adds
//! pan (drag), zoom (wheel and buttons), fit, and highlighting of a node's edges on hover. Status
//! colours, cross-location and reversed edges are CSS classes; every label is escaped by maud.

use std::fmt::Write as _;

use dg_layout::{EdgePath, GraphInput, Layout, LayoutOptions, NodeStatus, Point, Rect};
use maud::{html, Markup};

/// The URL of an asset's page: `/assets/` and the key's `/`-separated parts, each percent-encoded.
pub fn asset_url(id: &str) -> String {
    let mut url = String::from("/assets");
    for part in id.split('/') {
        url.push('/');
        for byte in part.bytes() {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                url.push(byte as char);
            } else {
                let _ = write!(url, "%{byte:02X}");
            }
        }
    }
    url
}

/// The graph with its toolbar, legend and pan/zoom container (`data-lineage` hooks the script).
pub fn lineage_view(graph: &GraphInput, layout: &Layout, options: &LayoutOptions) -> Markup {
    let cross = layout.edges.iter().filter(|e| e.cross_location).count();
    html! {
        section.lineage-view data-lineage {
            div.lineage-toolbar {
                div.zoom-buttons role="group" aria-label="Zoom" {
                    button type="button" data-zoom="in" title="Zoom in" { "+" }
                    button type="button" data-zoom="out" title="Zoom out" { "−" }
                    button type="button" data-zoom="fit" title="Fit to screen" { "Fit" }
                }
                span.lineage-stats {
                    (graph.nodes.len()) " assets · " (graph.edges.len()) " dependencies"
                    @if cross > 0 { " (" (cross) " across locations)" }
                    " · " (layout.locations.len()) " locations"
                }
                ul.legend {
                    @for status in [NodeStatus::Materialized, NodeStatus::Stale, NodeStatus::Missing,
                                    NodeStatus::Running, NodeStatus::Failed] {
                        li { span class={ "swatch " (status.css_class()) } {} (status.label()) }
                    }
                    li { span.swatch-edge.cross-location {} "Cross-location" }
                }
            }
            div.lineage-canvas { (lineage_svg(graph, layout, options)) }
        }
    }
}

/// The graph alone, as an `<svg>` element sized to the layout.
pub fn lineage_svg(graph: &GraphInput, layout: &Layout, options: &LayoutOptions) -> Markup {
    let view_box = format!("0 0 {} {}", num(layout.width), num(layout.height));
    let many_locations = layout.locations.len() > 1;
    html! {
        svg.lineage xmlns="http://www.w3.org/2000/svg" viewBox=(view_box)
            data-width=(num(layout.width)) data-height=(num(layout.height))
            role="img" aria-label="Asset lineage graph" {
            defs {
                (arrow_marker("dg-arrow", "arrow"))
                (arrow_marker("dg-arrow-cross", "arrow cross-location"))
            }
            g.clusters {
                @if many_locations {
                    @for frame in &layout.locations {
                        g.location {
                            (rect(&frame.rect, "location-frame", 10.0))
                            text.location-title x=(num(frame.rect.x + 12.0)) y=(num(frame.rect.y + 19.0)) {
                                (fit_text(&frame.location, frame.rect.width - 24.0, 7.0))
                            }
                        }
                    }
                }
                @for frame in &layout.groups {
                    g.group {
                        (rect(&frame.rect, "group-frame", 8.0))
                        text.group-title x=(num(frame.rect.x + 10.0)) y=(num(frame.rect.y + 17.0)) {
                            (fit_text(frame.group.as_deref().unwrap_or(""), frame.rect.width - 20.0, 6.6))
                        }
                    }
                }
            }
            g.edges {
                @for edge in &layout.edges {
                    path class=(edge_class(edge)) d=(path_data(&edge.points))
                        data-from=(edge.from) data-to=(edge.to)
                        marker-end={ "url(#" (if edge.cross_location { "dg-arrow-cross" } else { "dg-arrow" }) ")" } {}
                }
            }
            g.nodes {
                @for (i, (node, placed)) in graph.nodes.iter().zip(&layout.nodes).enumerate() {
                    @let r = &placed.rect;
                    a class={ "node " (node.status.css_class()) } href=(asset_url(&node.id)) data-i=(i) {
                        title { (node.id) " — " (node.status.label()) " (" (node.location) ")" }
                        (rect(r, "node-box", 6.0))
                        rect.node-stripe x=(num(r.x)) y=(num(r.y)) width="5" height=(num(r.height)) rx="2" {}
                        text.node-label x=(num(r.x + options.node_padding)) y=(num(r.y + 19.0)) {
                            (fit_text(&node.label, r.width - 2.0 * options.node_padding, options.char_width))
                        }
                        text.node-status x=(num(r.x + options.node_padding)) y=(num(r.y + 35.0)) {
                            (node.status.label())
                        }
                    }
                }
            }
        }
    }
}

fn arrow_marker(id: &str, class: &str) -> Markup {
    html! {
        marker id=(id) class=(class) viewBox="0 0 10 10" refX="9" refY="5"
            markerWidth="7" markerHeight="7" orient="auto-start-reverse" {
            path d="M 0 0 L 10 5 L 0 10 z" {}
        }
    }
}

fn rect(r: &Rect, class: &str, radius: f64) -> Markup {
    html! {
        rect class=(class) x=(num(r.x)) y=(num(r.y)) width=(num(r.width)) height=(num(r.height))
            rx=(num(radius)) {}
    }
}

fn edge_class(edge: &EdgePath) -> String {
    let mut class = String::from("edge");
    if edge.cross_location {
        class.push_str(" cross-location");
    }
    if edge.reversed {
        class.push_str(" reversed");
    }
    class
}

/// SVG path data for a start point followed by cubic segments; a segment that is a straight line
/// (a long edge running across a column, or a level bend) is written as a line.
fn path_data(points: &[Point]) -> String {
    let mut d = String::with_capacity(points.len() * 10);
    let Some(first) = points.first() else {
        return d;
    };
    d.push('M');
    push_point(&mut d, first);
    for segment in points.windows(4).step_by(3) {
        let [p0, c1, c2, p3] = [segment[0], segment[1], segment[2], segment[3]];
        if p0.y == c1.y && c1.y == c2.y && c2.y == p3.y {
            d.push_str(" L");
        } else {
            d.push_str(" C");
            push_point(&mut d, &c1);
            push_point(&mut d, &c2);
        }
        push_point(&mut d, &p3);
    }
    d
}

fn push_point(d: &mut String, p: &Point) {
    d.push(' ');
    push_num(d, p.x);
    d.push(' ');
    push_num(d, p.y);
}

/// Appends a coordinate with at most one decimal, without a trailing `.0` (no allocation: the
/// SVG of 10,000 nodes writes a few hundred thousand of them).
fn push_num(d: &mut String, v: f64) {
    let tenths = (v * 10.0).round() as i64;
    if tenths < 0 {
        d.push('-');
    }
    let tenths = tenths.unsigned_abs();
    let _ = write!(d, "{}", tenths / 10);
    if !tenths.is_multiple_of(10) {
        d.push('.');
        d.push(char::from(b'0' + (tenths % 10) as u8));
    }
}

/// Cuts `text` to what fits in `width` pixels at `char_width` per character, ending in `…`.
fn fit_text(text: &str, width: f64, char_width: f64) -> String {
    let room = (width / char_width).floor().max(1.0) as usize;
    if text.chars().count() <= room {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(room.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// A coordinate with at most one decimal, without a trailing `.0`.
fn num(v: f64) -> String {
    let mut s = String::new();
    push_num(&mut s, v);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use dg_layout::{layout, NodeIn};

    fn asset(id: &str, location: &str) -> NodeIn {
        NodeIn {
            id: id.to_owned(),
            label: id.to_owned(),
            group: "<g>".to_owned(),
            location: location.to_owned(),
            status: NodeStatus::Failed,
        }
    }

    #[test]
    fn asset_urls_encode_each_part() {
        assert_eq!(asset_url("raw/orders"), "/assets/raw/orders");
        assert_eq!(asset_url("a b/ü?&"), "/assets/a%20b/%C3%BC%3F%26");
    }

    #[test]
    fn svg_escapes_text_and_marks_classes() {
        let graph = GraphInput {
            nodes: vec![asset("<script>x</script>", "one"), asset("b&c", "two")],
            edges: vec![(0, 1), (1, 0)],
        };
        let options = LayoutOptions::default();
        let out = layout(&graph, &options).unwrap();
        let svg = lineage_view(&graph, &out, &options).into_string();
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(svg.contains("b&amp;c"));
        assert!(svg.contains("&lt;g&gt;"));
        assert!(svg.contains(r#"class="edge cross-location""#));
        assert!(svg.contains(r#"class="edge cross-location reversed""#));
        assert!(svg.contains(r#"class="node status-failed" href="/assets/b%26c""#));
        assert!(svg.contains("location-frame"));
        assert!(!svg.contains("style="));
    }

    #[test]
    fn helpers_format_numbers_paths_and_labels() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(-3.25), "-3.3");
        assert_eq!(num(-0.04), "0");
        assert_eq!(num(0.96), "1");
        let points = [
            Point { x: 0.0, y: 1.0 },
            Point { x: 2.0, y: 3.0 },
            Point { x: 4.5, y: 5.0 },
            Point { x: 6.0, y: 7.0 },
        ];
        assert_eq!(path_data(&points), "M 0 1 C 2 3 4.5 5 6 7");
        let level = [
            Point { x: 0.0, y: 1.0 },
            Point { x: 2.0, y: 1.0 },
            Point { x: 4.0, y: 1.0 },
            Point { x: 6.0, y: 1.0 },
        ];
        assert_eq!(path_data(&level), "M 0 1 L 6 1");
        assert_eq!(fit_text("abcdef", 40.0, 10.0), "abc…");
        assert_eq!(fit_text("abcd", 40.0, 10.0), "abcd");
    }
}
