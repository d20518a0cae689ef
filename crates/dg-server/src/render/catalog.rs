//! The asset catalog (a table filtered by an asset selection) and the page of one asset:
//! definition, upstream and downstream assets, materializations with their metadata, and a
//! button that materializes it.

use std::collections::HashMap;

use dg_layout::NodeStatus;
use maud::{html, Markup};

use super::fmt::{page_assets, status_badge, time};
use super::graph::asset_url;
use super::page::{page, Nav};
use crate::api::assets::{AssetDetail, AssetJson};

/// The status of each asset, by key parts (from [`crate::pages`]).
pub type Statuses = HashMap<dg_core::AssetKey, NodeStatus>;

/// The catalog page; `error` is a selection error to show above the (empty) table.
pub fn catalog(
    selection: &str,
    assets: &[AssetJson],
    statuses: &Statuses,
    error: Option<&str>,
) -> Markup {
    let body = html! {
        (page_assets())
        div.page {
            h1 { "Assets" }
            (selection_form("/assets", selection))
            @if let Some(error) = error { (selection_error(error)) }
            p.muted { (assets.len()) " assets" }
            table.grid.assets {
                thead { tr { th { "Asset" } th { "Status" } th { "Location" } th { "Group" } th { "Kinds" } th { "Last materialized" } } }
                tbody {
                    @for a in assets {
                        tr data-asset=(a.key) {
                            td { a href=(asset_url(&a.key)) { (a.key) } @if a.is_external { " " span.muted.small { "external" } } }
                            td { (status_badge(status_of(statuses, &a.path))) }
                            td { (a.location) }
                            td { (a.group) }
                            td.small { (a.kinds.join(", ")) }
                            td.small {
                                @if let Some(m) = &a.latest_materialization {
                                    a href={ "/runs/" (m.run_id) } { (time(m.timestamp)) }
                                } @else { span.muted { "never" } }
                            }
                        }
                    }
                }
            }
        }
    };
    page("Assets", Nav::Assets, body)
}

/// A selection error, shared with the lineage page: its first line, the lines that show the
/// selection with a caret under the column (indented by two spaces) in monospace so the caret
/// lines up, and any other line (the hint) as a hint.
pub fn selection_error(error: &str) -> Markup {
    let mut lines = error.lines();
    let first = lines.next().unwrap_or_default();
    let (snippet, rest): (Vec<&str>, Vec<&str>) = lines.partition(|l| l.starts_with("  "));
    html! {
        div.error-message role="alert" {
            p { (first) }
            @if !snippet.is_empty() { pre.selection-snippet { (snippet.join("\n")) } }
            @for line in rest { p.hint { (line) } }
        }
    }
}

/// The selection box (a GET form), shared with the lineage page.
pub fn selection_form(action: &str, selection: &str) -> Markup {
    html! {
        form.selection method="get" action=(action) {
            input type="search" name="selection" value=(selection) size="50"
                placeholder="Asset selection, e.g. group:raw or +key:cleaned_orders" aria-label="Asset selection";
            button type="submit" { "Select" }
        }
    }
}

/// `value` percent-encoded for a query string.
fn query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn status_of(statuses: &Statuses, path: &[String]) -> NodeStatus {
    statuses.get(path).copied().unwrap_or(NodeStatus::Unknown)
}

/// The page of one asset.
pub fn asset_page(detail: &AssetDetail, status: NodeStatus) -> Markup {
    let a = &detail.asset;
    let body = html! {
        (page_assets())
        div.page {
            h1 { "Asset " code { (a.key) } " " (status_badge(status)) }
            p.asset-links {
                a href={ "/lineage?selection=" (query_value(&format!("+key:\"{}\"+", a.key))) } { "Show in lineage" }
                " · "
                a href={ "/launch?selection=" (query_value(&format!("key:\"{}\"", a.key))) "&location=" (query_value(&a.location)) } { "Launch with options" }
            }
            @if a.is_materializable {
                form.materialize method="post" action="/runs" {
                    input type="hidden" name="asset" value=(a.key);
                    input type="hidden" name="location" value=(a.location);
                    @if a.partitions.is_some() {
                        label { "Partition " input type="text" name="partition" required; }
                    }
                    button type="submit" data-materialize { "Materialize" }
                }
            }
            @if let Some(d) = &a.description { p.description { (d) } }
            table.props {
                tr { th { "Location" } td { (a.location) } }
                tr { th { "Group" } td { (a.group) } }
                @if !a.kinds.is_empty() { tr { th { "Kinds" } td { (a.kinds.join(", ")) } } }
                @if !a.owners.is_empty() { tr { th { "Owners" } td { (a.owners.join(", ")) } } }
                @for (k, v) in &a.tags { tr { th { "Tag " code { (k) } } td { (v) } } }
                @if let Some(p) = &a.partitions { tr { th { "Partitions" } td { (p.description) } } }
                @if let Some(c) = &a.automation_condition { tr { th { "Automation" } td { (c) } } }
                @if let Some(v) = &a.code_version { tr { th { "Code version" } td { code { (v) } } } }
                @if let Some(s) = &a.source { tr { th { "Source" } td { code { (s) } } } }
                @for (k, v) in &detail.metadata { tr { th { "Metadata " code { (k) } } td { code { (v.value.to_string()) } } } }
            }
            div.columns {
                section { h2 { "Upstream" } (key_list(&a.deps)) }
                section { h2 { "Downstream" } (key_list(&a.downstream)) }
            }
            h2 { "Materializations" }
            @if detail.materializations.is_empty() {
                p.muted { "Never materialized." }
            } @else {
                table.grid.materializations {
                    thead { tr { th { "Time" } th { "Run" } th { "Partition" } th { "Metadata" } } }
                    tbody {
                        @for m in &detail.materializations {
                            tr {
                                td.small { (time(m.timestamp)) }
                                td { a href={ "/runs/" (m.run_id) } { code { (m.run_id.get(..8).unwrap_or(&m.run_id)) } } }
                                td { @if let Some(p) = &m.partition { (p) } }
                                td.small {
                                    @for (k, v) in &m.metadata { div { code { (k) } ": " (v.to_string()) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page(&a.key, Nav::Assets, body)
}

fn key_list(keys: &[String]) -> Markup {
    html! {
        @if keys.is_empty() { p.muted { "None" } }
        @else { ul.keys { @for k in keys { li { a href=(asset_url(k)) { (k) } } } } }
    }
}
