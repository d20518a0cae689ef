//! The dg dev web server: HTML UI, JSON API, server-sent events, and the host that keeps every
//! code location of a workspace loaded.
//!
//! - [`host`]: code locations (parallel loads, status, warm agents, hot reload via [`host::watch`]).
//! - [`runs`]: runs started from the API and the UI, executed by `dg-runs`.
//! - [`app`]: the router, cross-site protection, security headers, [`app::serve`];
//!   [`allowed_hosts`]: the `Host` names it answers to (DNS rebinding).
//! - [`api`]: the JSON API and its OpenAPI document; [`sse`]: live streams.
//! - [`pages`] and [`render`]: the server-rendered UI; the lineage graph is laid out by `dg-layout`.

pub mod allowed_hosts;
pub mod api;
pub mod app;
pub mod pages;
pub mod render;
pub mod sse;
pub mod state;

pub use app::{app, serve};
pub use dg_host::{Host, HostOptions};
pub use state::AppState;
