//! Small formatting helpers shared by the server's page templates: times, durations, the extra
//! assets (stylesheet, live script) those pages link, and status badges.

use dg_layout::NodeStatus;
use dg_storage::Timestamp;
use maud::{html, Markup};

/// UTC date and time of a Unix timestamp (`2025-01-31 14:05:09 UTC`).
pub fn time(ts: Timestamp) -> String {
    ts.as_jiff().strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// The UTC time of day of a Unix timestamp to the millisecond (`14:05:09.731`), for event logs
/// whose page already says the date.
pub fn clock(ts: Timestamp) -> String {
    let millis = (ts.as_secs_f64() * 1000.0).round() as i64;
    let day = millis.rem_euclid(86_400_000);
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        day / 3_600_000,
        day % 3_600_000 / 60_000,
        day % 60_000 / 1000,
        day % 1000
    )
}

/// A duration for people (`250 ms`, `3.2 s`, `4 min 05 s`), the same words as the terminal's.
pub use dg_runs::display::duration;

/// The stylesheet and script of the server's pages, linked from the body (the shell links only
/// the lineage files); both are files under `/static`, so the CSP holds.
pub fn page_assets() -> Markup {
    html! {
        link rel="stylesheet" href="/static/pages.css";
        script src="/static/live.js" defer {}
    }
}

/// A coloured status badge (`status-<lower case>` class).
pub fn badge(status: &str) -> Markup {
    let class = format!(
        "badge status-{}",
        status.to_ascii_lowercase().replace('_', "-")
    );
    html! { span class=(class) data-status=(status) { (status) } }
}

/// An asset's status as a coloured badge (the lineage graph's colours and words).
pub fn status_badge(status: NodeStatus) -> Markup {
    html! { span class={ "badge asset-status " (status.css_class()) } data-asset-status=(status.label()) { (status.label()) } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_civil_dates() {
        assert_eq!(
            time(Timestamp::from_secs_f64(0.0)),
            "1970-01-01 00:00:00 UTC"
        );
        assert_eq!(
            time(Timestamp::from_secs_f64(951_782_400.0)),
            "2000-02-29 00:00:00 UTC"
        );
        assert_eq!(
            time(Timestamp::from_secs_f64(1_738_332_309.7)),
            "2025-01-31 14:05:09 UTC"
        );
    }

    #[test]
    fn asset_status_badges_use_the_graph_classes() {
        let html = status_badge(NodeStatus::Running).into_string();
        assert_eq!(
            html,
            r#"<span class="badge asset-status status-running" data-asset-status="Materializing">Materializing</span>"#
        );
    }

    #[test]
    fn clocks_show_milliseconds() {
        assert_eq!(
            clock(Timestamp::from_secs_f64(1_738_332_309.731_5)),
            "14:05:09.732"
        );
        assert_eq!(clock(Timestamp::from_secs_f64(0.0)), "00:00:00.000");
        assert_eq!(
            clock(Timestamp::from_secs_f64(86_399.999_6)),
            "00:00:00.000"
        );
    }

    #[test]
    fn durations_pick_a_unit() {
        assert_eq!(duration(0.25), "250 ms");
        assert_eq!(duration(3.21), "3.2 s");
        assert_eq!(duration(245.0), "4 min 05 s");
    }
}
