//! The shell every page shares: `<head>`, the top navigation and the content slot.
//!
//! The shell links the stylesheet and scripts from the static base (`/static` when served); it
//! never inlines them, so pages satisfy a `default-src 'self'` Content-Security-Policy. Scripts
//! are deferred and only act on the elements they are written for, so every page can load them.

use maud::{html, Markup, DOCTYPE};

use super::assets::{LINEAGE_SCRIPT, STATIC_BASE, STYLESHEET};

/// The sections of the top navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// Code locations with status and errors, recent runs.
    Overview,
    /// The asset catalog.
    Assets,
    /// The lineage graph.
    Lineage,
    /// The runs list.
    Runs,
    /// A page outside the four sections (errors, for example).
    None,
}

impl Nav {
    /// The sections shown in the navigation, in order.
    pub const SECTIONS: [Nav; 4] = [Nav::Overview, Nav::Assets, Nav::Lineage, Nav::Runs];

    /// The link text.
    pub fn label(self) -> &'static str {
        match self {
            Nav::Overview => "Overview",
            Nav::Assets => "Assets",
            Nav::Lineage => "Lineage",
            Nav::Runs => "Runs",
            Nav::None => "",
        }
    }

    /// The URL of the section.
    pub fn href(self) -> &'static str {
        match self {
            Nav::Overview | Nav::None => "/",
            Nav::Assets => "/assets",
            Nav::Lineage => "/lineage",
            Nav::Runs => "/runs",
        }
    }
}

/// A full HTML page: `title` in the tab, `nav_active` highlighted, `body` in the content slot.
pub fn page(title: &str, nav_active: Nav, body: Markup) -> Markup {
    page_at(STATIC_BASE, title, nav_active, body)
}

/// Like [`page`], with the static files under `static_base` (a relative path for files on disk).
pub fn page_at(static_base: &str, title: &str, nav_active: Nav, body: Markup) -> Markup {
    let full_title = if title.is_empty() {
        "dg".to_owned()
    } else {
        format!("{title} · dg")
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light";
                title { (full_title) }
                link rel="stylesheet" href={ (static_base) "/" (STYLESHEET.name) };
                script src={ (static_base) "/" (LINEAGE_SCRIPT.name) } defer {}
            }
            body {
                header.topbar {
                    a.brand href="/" { span.brand-mark { "dg" } " dev" }
                    nav.mainnav aria-label="Main" {
                        @for section in Nav::SECTIONS {
                            @if section == nav_active {
                                a.active href=(section.href()) aria-current="page" { (section.label()) }
                            } @else {
                                a href=(section.href()) { (section.label()) }
                            }
                        }
                    }
                }
                main.content { (body) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_escapes_the_title_and_marks_the_active_section() {
        let html = page("<b>&runs", Nav::Runs, html! { p { "hi" } }).into_string();
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<title>&lt;b&gt;&amp;runs · dg</title>"));
        assert!(html.contains(r#"<a class="active" href="/runs" aria-current="page">Runs</a>"#));
        assert!(html.contains(r#"<a href="/lineage">Lineage</a>"#));
        assert!(html.contains(r#"<main class="content"><p>hi</p></main>"#));
    }

    #[test]
    fn no_inline_scripts_or_styles() {
        let html = page("t", Nav::Overview, html! {}).into_string();
        assert!(html.contains(r#"<script src="/static/lineage.js" defer></script>"#));
        assert!(html.contains(r#"<link rel="stylesheet" href="/static/dg.css">"#));
        assert_eq!(html.matches("<script").count(), 1);
        assert!(!html.contains("<style") && !html.contains("style="));
    }
}
