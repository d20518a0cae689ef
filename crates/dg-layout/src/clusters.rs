//! Groups nodes by (code location, group) and stacks the frames so that none overlap.
//!
//! A group frame spans the columns from its leftmost to its rightmost node and is as tall as its
//! fullest column (nodes, and the long edges that pass through it, see [`pack`]). Frames are placed with a skyline per column: a frame goes as high as the columns
//! it spans allow. Groups are packed inside their location first, then locations are packed on the
//! whole drawing, both from the leftmost starting column on (ties in name order, the sorts are
//! stable), so upstream frames sit top left and a location's groups always sit inside its frame. Horizontal
//! separation of frames that share a row comes from the gap between columns (see [`pad_limit`]).

use std::collections::BTreeMap;

use super::dummies::Proper;
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
    /// Lowest allowed bottom edge of an item.
    pub band_bottom: f64,
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
    /// Group index per item (node or dummy); [`FREE`] for a dummy outside every band.
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

/// Group index of a dummy that lives outside every group band (see [`pack`]).
pub(crate) const FREE: u32 = u32::MAX;

/// Assigns every item (node or dummy) to a group band and places the frames.
///
/// A dummy lives in the band of its upstream node's group while that group's columns last, then
/// in the band of its downstream node's group once those begin; in the columns between, it is
/// [`FREE`] and gets routed through the gaps between frames.
pub(crate) fn pack(
    graph: &GraphInput,
    proper: &Proper,
    layer_count: usize,
    options: &LayoutOptions,
) -> Packed {
    let mut keys: BTreeMap<(&str, &str), u32> = BTreeMap::new();
    for node in &graph.nodes {
        keys.insert((node.location.as_str(), node.group.as_str()), 0);
    }
    let mut location_names: Vec<&str> = keys.keys().map(|(l, _)| *l).collect();
    location_names.dedup();
    for (i, id) in keys.values_mut().enumerate() {
        *id = i as u32;
    }
    let mut node_group: Vec<u32> = graph
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
            band_bottom: 0.0,
            node_count: 0,
        })
        .collect();
    for (&g, &l) in node_group.iter().zip(&proper.layer) {
        let band = &mut groups[g as usize];
        band.min_layer = band.min_layer.min(l as usize);
        band.max_layer = band.max_layer.max(l as usize);
        band.node_count += 1;
    }
    for d in proper.real..proper.count {
        let (u, v) = proper.ends[d - proper.real];
        let l = proper.layer[d] as usize;
        let (gu, gv) = (node_group[u as usize], node_group[v as usize]);
        let in_u = l <= groups[gu as usize].max_layer;
        let in_v = l >= groups[gv as usize].min_layer;
        node_group.push(match (in_u, in_v) {
            (true, true) if gu == gv => gu,
            (true, true) => {
                // Both bands reach this column: the nearer end's.
                let (lu, lv) = (
                    proper.layer[u as usize] as usize,
                    proper.layer[v as usize] as usize,
                );
                if l - lu <= lv - l {
                    gu
                } else {
                    gv
                }
            }
            (true, false) => gu,
            (false, true) => gv,
            (false, false) => FREE,
        });
    }

    // Tallest column of every group: sort (group, layer, is dummy) keys and add up runs. The length
    // assumes the wider of the two gaps between any two items, so every order fits.
    let mut items: Vec<u64> = (0..proper.count)
        .filter(|&i| node_group[i] != FREE)
        .map(|i| {
            (u64::from(node_group[i]) << 33)
                | (u64::from(proper.layer[i]) << 1)
                | u64::from(proper.is_dummy(i))
        })
        .collect();
    items.sort_unstable();
    let gap = options.node_gap.max(options.edge_spacing);
    let mut tallest = vec![0.0f64; groups.len()];
    for run in items.chunk_by(|a, b| a >> 1 == b >> 1) {
        let nodes = run.iter().filter(|&&i| i & 1 == 0).count();
        let length = nodes as f64 * options.node_height + (run.len() - 1) as f64 * gap;
        let g = (run[0] >> 33) as usize;
        tallest[g] = tallest[g].max(length);
    }
    for (band, &length) in groups.iter_mut().zip(&tallest) {
        band.outer_height = options.group_header + 2.0 * group_padding + length;
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
    let mut sky = Skyline::new(layer_count, options.cluster_gap);
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
        band.band_bottom = band.outer_top + band.outer_height - group_padding;
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
