//! The dg dev web server: HTML UI, JSON API, server-sent events.
