//! Layered (Sugiyama-style) layout of the asset lineage graph, left to right, with every asset
//! inside a frame for its group and every group inside a frame for its code location.
//!
//! `dg dev`'s lineage page (`dg-server`) draws what [`layout`] returns; this crate knows nothing of
//! HTML or SVG. [`NodeIn::status`] travels with the input only so that the renderer can colour the
//! node; the layout ignores it.
//!
//! The pipeline, each step in its own module:
//! 1. `acyclic`: a depth-first search reverses back edges so that any input, cycles included,
//!    becomes a DAG (reversed edges are flagged in the output and still drawn).
//! 2. `layering`: longest-path layering, then a light balancing pass that moves a node towards
//!    the side where most of its edges are (shorter edges, fewer empty layers).
//! 3. `dummies`: every edge spanning several layers gets a virtual node on each layer in between
//!    (edges fanning out of one node share them while they run together).
//! 4. `clusters`: nodes are grouped by (code location, group); every group gets a band of rows
//!    (tall enough for its nodes and the dummies it hosts) and every location a frame, packed with
//!    a skyline so that frames never overlap.
//! 5. `ordering`: barycenter sweeps inside each (layer, group) segment, dummies included, to
//!    reduce crossings, with a number of sweeps that shrinks as the graph grows.
//! 6. `coords`: median alignment inside each band (isotonic regression keeps order and spacing),
//!    dummies outside every band routed through the gaps between frames, column x positions.
//! 7. `edges`: each edge as smooth cubic Bézier segments through its dummies.
//!
//! [`sample`] generates seeded random graphs shaped like real ones, for tests, benchmarks and demos.
//!
//! Guarantees: the output is a pure function of the input and options (no hash-order or clock
//! dependence); nodes never overlap; every non-reversed edge goes from a lower layer to a higher
//! one; no edge crosses a node other than its own ends; the work is `O((V + E + D) log V)` per
//! sweep (`D` dummies) with a bounded number of sweeps, so 10,000 nodes lay out in milliseconds.

mod acyclic;
mod clusters;
mod coords;
mod dummies;
mod edges;
mod layering;
mod ordering;
pub mod sample;
#[cfg(test)]
mod tests;

use thiserror::Error;

/// The state of an asset, shown as a colour on its node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum NodeStatus {
    /// Nothing is known (storage not read yet).
    #[default]
    Unknown,
    /// Never materialized.
    Missing,
    /// The latest materialization succeeded and is up to date.
    Materialized,
    /// Materialized, but an upstream asset or the code changed since.
    Stale,
    /// The latest attempt to materialize failed.
    Failed,
    /// A run materializing it is in progress.
    Running,
}

impl NodeStatus {
    /// The CSS class the UI styles this status with (`status-<name>`).
    pub fn css_class(self) -> &'static str {
        match self {
            NodeStatus::Unknown => "status-unknown",
            NodeStatus::Missing => "status-missing",
            NodeStatus::Materialized => "status-materialized",
            NodeStatus::Stale => "status-stale",
            NodeStatus::Failed => "status-failed",
            NodeStatus::Running => "status-running",
        }
    }

    /// A short human label for the status.
    pub fn label(self) -> &'static str {
        match self {
            NodeStatus::Unknown => "Unknown",
            NodeStatus::Missing => "Never materialized",
            NodeStatus::Materialized => "Materialized",
            NodeStatus::Stale => "Stale",
            NodeStatus::Failed => "Failed",
            NodeStatus::Running => "Materializing",
        }
    }
}

/// One node to lay out (an asset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeIn {
    /// The asset key as a user string, path components separated by `/` (`raw/orders`).
    pub id: String,
    /// The text shown on the node.
    pub label: String,
    /// The asset group; nodes of one group are drawn inside one frame.
    pub group: String,
    /// The code location the asset is defined in.
    pub location: String,
    /// The status colour of the node.
    pub status: NodeStatus,
}

/// The graph to lay out. Edges are `(upstream, downstream)` indices into `nodes`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GraphInput {
    /// The nodes.
    pub nodes: Vec<NodeIn>,
    /// Dependencies as `(upstream, downstream)` node indices; self-loops and cycles are allowed.
    pub edges: Vec<(usize, usize)>,
}

/// Sizes and spacing of the layout, in pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct LayoutOptions {
    /// Height of every node.
    pub node_height: f64,
    /// Narrowest node.
    pub min_node_width: f64,
    /// Widest node; longer labels are cut by the renderer.
    pub max_node_width: f64,
    /// Estimated width of one label character (the renderer's font).
    pub char_width: f64,
    /// Horizontal padding inside a node, on each side of the label.
    pub node_padding: f64,
    /// Horizontal space between two columns (layers).
    pub layer_gap: f64,
    /// Vertical space between two nodes of one column.
    pub node_gap: f64,
    /// Vertical space between a long edge passing a column and its neighbours there (nodes or
    /// other edges).
    pub edge_spacing: f64,
    /// Padding inside a group frame.
    pub group_padding: f64,
    /// Height of a group frame's title bar.
    pub group_header: f64,
    /// Padding inside a location frame.
    pub location_padding: f64,
    /// Height of a location frame's title bar.
    pub location_header: f64,
    /// Vertical space between two frames.
    pub cluster_gap: f64,
    /// Space around the whole drawing.
    pub margin: f64,
    /// Upper bound on crossing-reduction sweeps (each sweep visits every node and edge once).
    pub max_sweeps: usize,
    /// Node-plus-edge visits spent on crossing reduction; fewer sweeps on bigger graphs.
    pub sweep_budget: usize,
}

impl Default for LayoutOptions {
    fn default() -> Self {
        LayoutOptions {
            node_height: 44.0,
            min_node_width: 140.0,
            max_node_width: 260.0,
            char_width: 7.4,
            node_padding: 14.0,
            layer_gap: 110.0,
            node_gap: 14.0,
            edge_spacing: 10.0,
            group_padding: 14.0,
            group_header: 24.0,
            location_padding: 12.0,
            location_header: 28.0,
            cluster_gap: 18.0,
            margin: 20.0,
            max_sweeps: 12,
            sweep_budget: 400_000,
        }
    }
}

/// A point in pixels; y grows downwards.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Point {
    /// Horizontal position.
    pub x: f64,
    /// Vertical position.
    pub y: f64,
}

/// An axis-aligned rectangle in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Rect {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}

impl Rect {
    /// Right edge.
    pub fn right(&self) -> f64 {
        self.x + self.width
    }

    /// Bottom edge.
    pub fn bottom(&self) -> f64 {
        self.y + self.height
    }

    /// Whether the two rectangles share interior area (touching edges do not count).
    pub fn overlaps(&self, other: &Rect) -> bool {
        self.x < other.right()
            && other.x < self.right()
            && self.y < other.bottom()
            && other.y < self.bottom()
    }

    /// Whether `other` lies inside this rectangle (edges may touch).
    pub fn contains(&self, other: &Rect) -> bool {
        other.x >= self.x
            && other.y >= self.y
            && other.right() <= self.right()
            && other.bottom() <= self.bottom()
    }
}

/// Where one input node ended up; same index as in [`GraphInput::nodes`].
#[derive(Debug, Clone, PartialEq)]
pub struct NodeBox {
    /// The node's rectangle.
    pub rect: Rect,
    /// Its layer (column), 0 at the left.
    pub layer: usize,
    /// Its rank in its column, 0 at the top.
    pub order: usize,
}

/// One drawn edge; same index as in [`GraphInput::edges`].
#[derive(Debug, Clone, PartialEq)]
pub struct EdgePath {
    /// Upstream node index.
    pub from: usize,
    /// Downstream node index.
    pub to: usize,
    /// A cubic Bézier path: a start point, then three points (two controls and an end) per segment.
    /// It leaves the right side of the upstream node and enters the left side of the downstream
    /// one (a reversed edge: leaves the left side, enters the right side), passing no other node.
    pub points: Vec<Point>,
    /// The edge had to be drawn against the flow to break a cycle (or is a self-loop).
    pub reversed: bool,
    /// The two ends live in different code locations.
    pub cross_location: bool,
}

/// A frame drawn behind the nodes of one group or one code location.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterBox {
    /// The code location.
    pub location: String,
    /// The group, or `None` for a location frame.
    pub group: Option<String>,
    /// The frame, title bar included.
    pub rect: Rect,
    /// How many nodes it holds.
    pub node_count: usize,
}

/// The result of [`layout`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Layout {
    /// One box per input node, in input order.
    pub nodes: Vec<NodeBox>,
    /// One path per input edge, in input order.
    pub edges: Vec<EdgePath>,
    /// Group frames, sorted by (location, group).
    pub groups: Vec<ClusterBox>,
    /// Location frames, sorted by name.
    pub locations: Vec<ClusterBox>,
    /// Width of the whole drawing (from x = 0).
    pub width: f64,
    /// Height of the whole drawing (from y = 0).
    pub height: f64,
    /// Number of layers (columns).
    pub layer_count: usize,
}

/// Why a graph cannot be laid out.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum LayoutError {
    /// An edge names a node index that does not exist.
    #[error("edge #{edge} ({from} -> {to}) names a node outside 0..{node_count}")]
    EdgeOutOfRange {
        /// Index of the edge in the input.
        edge: usize,
        /// Its upstream index.
        from: usize,
        /// Its downstream index.
        to: usize,
        /// How many nodes there are.
        node_count: usize,
    },
}

/// Lays out `graph` left to right.
pub fn layout(graph: &GraphInput, options: &LayoutOptions) -> Result<Layout, LayoutError> {
    let n = graph.nodes.len();
    for (edge, &(from, to)) in graph.edges.iter().enumerate() {
        if from >= n || to >= n {
            return Err(LayoutError::EdgeOutOfRange {
                edge,
                from,
                to,
                node_count: n,
            });
        }
    }
    if n == 0 {
        let side = 2.0 * options.margin;
        return Ok(Layout {
            width: side,
            height: side,
            ..Layout::default()
        });
    }

    let dag = acyclic::Dag::new(n, &graph.edges);
    let layers = layering::assign_layers(&dag);
    let proper = dummies::Proper::new(&dag, &layers, &graph.edges);
    let packed = clusters::pack(graph, &proper, layers.count, options);
    let mut order = ordering::Ordering::new(&proper, layers.count, &packed, options);
    order.reduce_crossings(&proper, options);
    Ok(coords::finish(coords::Inputs {
        graph,
        reversed: &dag.reversed,
        proper: &proper,
        layer_count: layers.count,
        packed: &packed,
        order: &order,
        options,
    }))
}
