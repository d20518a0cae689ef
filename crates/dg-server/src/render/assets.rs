//! The static files the pages load (stylesheet, scripts), compiled into the binary.
//!
//! Pages never inline scripts or styles; they link these files under [`STATIC_BASE`], which keeps
//! the UI compatible with `Content-Security-Policy: default-src 'self'` and means the UI works with
//! no network and no front-end build step.

/// Where the server mounts the static files.
pub const STATIC_BASE: &str = "/static";

/// One embedded file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaticFile {
    /// File name under [`STATIC_BASE`].
    pub name: &'static str,
    /// The `Content-Type` to serve it with.
    pub content_type: &'static str,
    /// Its content.
    pub body: &'static str,
}

impl StaticFile {
    /// A strong validator for `ETag` headers: 64-bit FNV-1a of the content, in hex.
    pub fn etag(&self) -> String {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in self.body.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        format!("\"{hash:016x}\"")
    }
}

/// The stylesheet every page links.
pub const STYLESHEET: StaticFile = StaticFile {
    name: "dg.css",
    content_type: "text/css; charset=utf-8",
    body: include_str!("../../static/dg.css"),
};

/// Pan, zoom, hover and click-through for the lineage graph.
pub const LINEAGE_SCRIPT: StaticFile = StaticFile {
    name: "lineage.js",
    content_type: "text/javascript; charset=utf-8",
    body: include_str!("../../static/lineage.js"),
};

/// Every embedded file.
pub const ALL: [StaticFile; 2] = [STYLESHEET, LINEAGE_SCRIPT];

/// The embedded file called `name` (the part of the URL after `/static/`).
pub fn static_file(name: &str) -> Option<StaticFile> {
    ALL.iter().copied().find(|f| f.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_found_by_name_and_have_stable_etags() {
        let css = static_file("dg.css").expect("stylesheet is embedded");
        assert!(css.body.contains(".topbar"));
        assert_eq!(css.etag(), STYLESHEET.etag());
        assert_ne!(css.etag(), LINEAGE_SCRIPT.etag());
        assert!(static_file("../Cargo.toml").is_none());
    }
}
