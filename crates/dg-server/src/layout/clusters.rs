//! Groups nodes by (code location, group) and stacks the frames so that none overlap.
//!
//! A group frame spans the columns from its leftmost to its rightmost node and is as tall as its
//! fullest column. Frames are placed with a skyline per column: a frame goes as high as the columns
//! it spans allow. Groups are packed inside their location first, then locations are packed on the
//! whole drawing, both from the leftmost starting column on (ties in name order, the sorts are
//! stable), so upstream frames sit top left and a location's groups always sit inside its frame. Horizontal
//! separation of frames that share a row comes from the gap between columns (see [`pad_limit`]).

use std::collections::BTreeMap;

use super::layering::Layers;
use super::{GraphInput, LayoutOptions};

/// The vertical band of one group.
#[derive(Debug)]
pub(crate) struct GroupBand {
    /// Index into [`Packed::locations`].
    pub location: usize,
    /// The group name.
    pub name: String,
    /// Leftmost layer holding one of its nodes.
    pub min_layer: usize,
    /// Rightmost layer holding one of its nodes.
    pub max_layer: usize,
    /// Top of the frame.
    pub outer_top: f64,
    /// Height of the frame.
    pub outer_height: f64,
    /// Top of the rows where nodes go.
    pub band_top: f64,
    /// Lowest allowed top edge of a node.
    pub band_last: f64,
    /// How many nodes it holds.
    pub node_count: usize,
}

/// The frame of one code location.
#[derive(Debug)]
pub(crate) struct LocationFrame {
    /// The location name.
    pub name: String,
    /// Leftmost layer of its nodes.
    pub min_layer: usize,
    /// Rightmost layer of its nodes.
    pub max_layer: usize,
    /// Top of the frame.
    pub outer_top: f64,
    /// Height of the frame.
    pub outer_height: f64,
    /// How many nodes it holds.
    pub node_count: usize,
}

/// Result of packing: which band every node lives in, and where the bands are.
#[derive(Debug)]
pub(crate) struct Packed {
    /// Group index per node.
    pub node_group: Vec<u32>,
    /// Groups sorted by (location, group name).
    pub groups: Vec<GroupBand>,
    /// Locations sorted by name.
    pub locations: Vec<LocationFrame>,
    /// Padding used inside location frames (zero when there is only one location).
    pub location_padding: f64,
    /// Padding used inside group frames.
    pub group_padding: f64,
    /// Bottom of the lowest frame plus the margin.
    pub height: f64,
}

/// The largest total padding (group + location) that keeps frames in neighbouring columns apart.
pub(crate) fn pad_limit(options: &LayoutOptions) -> f64 {
    (options.layer_gap / 2.0 - 4.0).max(0.0)
}

/// Assigns every node to a group band and places the frames.
pub(crate) fn pack(graph: &GraphInput, layers: &Layers, options: &LayoutOptions) -> Packed {
    let mut keys: BTreeMap<(&str, &str), u32> = BTreeMap::new();
    for node in &graph.nodes {
        keys.insert((node.location.as_str(), node.group.as_str()), 0);
    }
    let mut location_names: Vec<&str> = keys.keys().map(|(l, _)| *l).collect();
    location_names.dedup();
    for (i, id) in keys.values_mut().enumerate() {
        *id = i as u32;
    }
    let node_group: Vec<u32> = graph
        .nodes
        .iter()
        .map(|n| keys[&(n.location.as_str(), n.group.as_str())])
        .collect();

    let single = location_names.len() == 1;
    let group_padding = options.group_padding.min(pad_limit(options));
    let (location_padding, location_header) = if single {
        (0.0, 0.0)
    } else {
        let pad = options
            .location_padding
            .min(pad_limit(options) - group_padding);
        (pad, options.location_header)
    };
    let pitch = options.node_height + options.node_gap;

    // Fullest column of every group: sort (group, layer) pairs and count runs.
    let mut pairs: Vec<(u32, u32)> = node_group
        .iter()
        .zip(&layers.of)
        .map(|(&g, &l)| (g, l))
        .collect();
    pairs.sort_unstable();
    let mut groups: Vec<GroupBand> = keys
        .keys()
        .map(|(loc, name)| GroupBand {
            location: location_names.binary_search(loc).unwrap_or(0),
            name: (*name).to_owned(),
            min_layer: usize::MAX,
            max_layer: 0,
            outer_top: 0.0,
            outer_height: 0.0,
            band_top: 0.0,
            band_last: 0.0,
            node_count: 0,
        })
        .collect();
    let mut fullest = vec![0usize; groups.len()];
    for run in pairs.chunk_by(|a, b| a == b) {
        let (g, l) = (run[0].0 as usize, run[0].1 as usize);
        let band = &mut groups[g];
        band.min_layer = band.min_layer.min(l);
        band.max_layer = band.max_layer.max(l);
        band.node_count += run.len();
        fullest[g] = fullest[g].max(run.len());
    }
    for (band, &rows) in groups.iter_mut().zip(&fullest) {
        band.outer_height =
            options.group_header + 2.0 * group_padding + rows as f64 * pitch - options.node_gap;
    }

    let mut locations: Vec<LocationFrame> = location_names
        .iter()
        .map(|name| LocationFrame {
            name: (*name).to_owned(),
            min_layer: usize::MAX,
            max_layer: 0,
            outer_top: 0.0,
            outer_height: 0.0,
            node_count: 0,
        })
        .collect();
    for band in &groups {
        let loc = &mut locations[band.location];
        loc.min_layer = loc.min_layer.min(band.min_layer);
        loc.max_layer = loc.max_layer.max(band.max_layer);
        loc.node_count += band.node_count;
    }

    // Groups inside their location, relative to the location's content top.
    let mut relative_top = vec![0.0; groups.len()];
    for (li, loc) in locations.iter_mut().enumerate() {
        let mut sky = Skyline::new(loc.max_layer - loc.min_layer + 1, options.cluster_gap);
        let mut members: Vec<usize> = (0..groups.len())
            .filter(|&g| groups[g].location == li)
            .collect();
        members.sort_by_key(|&g| groups[g].min_layer);
        for gi in members {
            let band = &groups[gi];
            relative_top[gi] = sky.place(
                band.min_layer - loc.min_layer,
                band.max_layer - loc.min_layer,
                band.outer_height,
            );
        }
        loc.outer_height = location_header + 2.0 * location_padding + sky.height();
    }
    let mut sky = Skyline::new(layers.count, options.cluster_gap);
    let mut packing_order: Vec<usize> = (0..locations.len()).collect();
    packing_order.sort_by_key(|&l| locations[l].min_layer);
    for l in packing_order {
        let loc = &mut locations[l];
        loc.outer_top = options.margin + sky.place(loc.min_layer, loc.max_layer, loc.outer_height);
    }
    for (band, rel) in groups.iter_mut().zip(relative_top) {
        let loc = &locations[band.location];
        band.outer_top = loc.outer_top + location_header + location_padding + rel;
        band.band_top = band.outer_top + options.group_header + group_padding;
        band.band_last = band.outer_top + band.outer_height - group_padding - options.node_height;
    }
    Packed {
        node_group,
        groups,
        locations,
        location_padding,
        group_padding,
        height: options.margin + sky.height() + options.margin,
    }
}

/// The lowest occupied y of every column, for first-fit placement of column spans.
struct Skyline {
    tops: Vec<f64>,
    gap: f64,
}

impl Skyline {
    fn new(columns: usize, gap: f64) -> Skyline {
        Skyline {
            tops: vec![0.0; columns],
            gap,
        }
    }

    /// Places a box spanning columns `first..=last`; returns its top.
    fn place(&mut self, first: usize, last: usize, height: f64) -> f64 {
        let span = &mut self.tops[first..=last];
        let top = span.iter().copied().fold(0.0, f64::max);
        span.fill(top + height + self.gap);
        top
    }

    /// Height used so far (without the trailing gap).
    fn height(&self) -> f64 {
        let max = self.tops.iter().copied().fold(0.0, f64::max);
        (max - self.gap).max(0.0)
    }
}
