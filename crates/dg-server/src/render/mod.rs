//! Server-rendered HTML: the page shell every page shares, the lineage graph as SVG, and the static
//! files (CSS, JavaScript) the pages load from `/static/`.
//!
//! All markup is built with maud, which escapes every interpolated string; no page carries inline
//! scripts or styles, so a strict `Content-Security-Policy` (`default-src 'self'`) holds.

pub mod assets;
pub mod captured;
pub mod catalog;
pub mod fmt;
pub mod graph;
pub mod overview;
pub mod page;
pub mod run_page;
pub mod runs;
