//! The dg dev web layer: HTML UI, JSON API, server-sent events, over the host of `dg-host` (code
//! locations and runs), which it reads and asks but never runs itself.
//!
//! - [`app`]: the router, cross-site protection, security headers, [`app::serve`];
//!   [`allowed_hosts`]: the `Host` names it answers to (DNS rebinding).
//! - [`api`]: the JSON API, its errors ([`api::error`]) and OpenAPI document; [`api::sse`]: live
//!   streams.
//! - [`pages`] and [`render`]: the server-rendered UI; the lineage graph is laid out by `dg-layout`.
//! - [`state`]: what every handler shares (the [`Host`], the run manager, storage, limits).

pub mod allowed_hosts;
pub mod api;
pub mod app;
pub mod pages;
pub mod render;
pub mod state;

pub use app::{app, serve};
pub use dg_host::{Host, HostOptions};
pub use state::AppState;
