//! The dg dev web server: HTML UI, JSON API, server-sent events.
//!
//! What exists so far: the lineage-graph [`layout`], the HTML [`render`]ing of pages and of the graph
//! (maud, escaped by default), the embedded static files the pages load, and [`sample`] graphs for
//! benchmarks, tests and demos. The HTTP server itself comes later.

pub mod layout;
pub mod render;
pub mod sample;
