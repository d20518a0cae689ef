//! The snapshot cache: a location's snapshot, keyed by a content hash of everything loading depends
//! on, so that a repeated command with nothing changed starts no Python process at all.
//!
//! The key (blake3) covers: the snapshot schema, protocol and agent versions; the location's
//! settings; every file of the project that git would not ignore (`.gitignore` is respected even
//! outside a git repository; `.venv`, `.git`, `__pycache__` and tool caches are skipped), by path
//! and content; the project's `.env`; the extra config files (the workspace's `dg.toml`); the uv
//! workspace's `uv.lock`; the interpreter (path, size, mtime) and its environment's `pyvenv.cfg`;
//! the listing of each `site-packages` folder with the mtimes of its `*.dist-info`, `*.pth` and
//! `*.egg-link` entries; and the host's `DAGSTER_*` and `PYTHONPATH` variables. Code outside the
//! project that it reads at import time (data files elsewhere, editable sibling packages) is not
//! covered: use `--no-cache` then.
//!
//! Entries live in `$DG_CACHE_DIR/snapshots` (default `$XDG_CACHE_HOME/dg`, else `~/.cache/dg`):
//! one JSON file per location (named by a hash of its root and name), overwritten on each load,
//! so the cache never grows beyond one entry per location.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use dg_config::env as vars;
use dg_python::{EnvSource, PythonEnvironment};
use serde::{Deserialize, Serialize};

use crate::agent::agent_version;
use crate::location::LocationSpec;
use crate::protocol::PROTOCOL_VERSION;
use crate::snapshot::{DefinitionsSnapshot, SCHEMA_VERSION};

/// Files larger than this are hashed by size and mtime instead of content.
const MAX_HASHED_FILE: u64 = 16 * 1024 * 1024;

/// Folder names never hashed, wherever they appear.
const SKIPPED_DIRS: &[&str] = &[
    ".git",
    ".venv",
    "venv",
    "__pycache__",
    ".dagster",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "node_modules",
    ".tox",
];

/// Where snapshots are cached.
#[derive(Debug, Clone)]
pub struct SnapshotCache {
    dir: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    key: String,
    snapshot: DefinitionsSnapshot,
}

impl SnapshotCache {
    /// A cache in `dir` (created when first written).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The default cache: `$DG_CACHE_DIR/snapshots`, else `$XDG_CACHE_HOME/dg/snapshots`, else
    /// `~/.cache/dg/snapshots`; `None` when none of these can be determined.
    pub fn default_location() -> Option<Self> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let base = var(vars::DG_CACHE_DIR)
            .map(PathBuf::from)
            .or_else(|| var(vars::XDG_CACHE_HOME).map(|d| PathBuf::from(d).join("dg")))
            .or_else(|| var(vars::HOME).map(|h| PathBuf::from(h).join(".cache").join("dg")))?;
        Some(Self::new(base.join("snapshots")))
    }

    /// The folder entries live in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The cached snapshot of `spec`, if its key is `key`.
    pub fn get(&self, spec: &LocationSpec, key: &str) -> Option<DefinitionsSnapshot> {
        let text = std::fs::read(self.entry_path(spec)).ok()?;
        let entry: Entry = serde_json::from_slice(&text).ok()?;
        (entry.key == key && entry.snapshot.schema_version == SCHEMA_VERSION)
            .then_some(entry.snapshot)
    }

    /// Stores `snapshot` as the entry of `spec` under `key` (atomically: readers never see half a file).
    pub fn put(
        &self,
        spec: &LocationSpec,
        key: &str,
        snapshot: &DefinitionsSnapshot,
    ) -> io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let entry = Entry {
            key: key.to_owned(),
            snapshot: snapshot.clone(),
        };
        let path = self.entry_path(spec);
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, serde_json::to_vec(&entry).map_err(io::Error::other)?)?;
        std::fs::rename(&tmp, &path)
    }

    fn entry_path(&self, spec: &LocationSpec) -> PathBuf {
        let mut h = blake3::Hasher::new();
        h.update(spec.root.as_os_str().as_encoded_bytes());
        h.update(b"\0");
        h.update(spec.name.as_bytes());
        self.dir
            .join(format!("{}.json", &h.finalize().to_hex()[..32]))
    }
}

/// The cache key of loading `spec` in `env`: a hex blake3 hash.
pub fn cache_key(spec: &LocationSpec, env: &PythonEnvironment) -> io::Result<String> {
    let mut h = blake3::Hasher::new();
    let field = |h: &mut blake3::Hasher, name: &str, value: &[u8]| {
        h.update(name.as_bytes());
        h.update(&(value.len() as u64).to_le_bytes());
        h.update(value);
    };
    field(
        &mut h,
        "versions",
        format!("{SCHEMA_VERSION}/{PROTOCOL_VERSION}/{}", agent_version()).as_bytes(),
    );
    let settings = format!(
        "{}\0{}\0{:?}\0{:?}\0{:?}",
        spec.name, spec.root_module, spec.target_module, spec.defs_module, spec.working_directory
    );
    field(&mut h, "settings", settings.as_bytes());
    field(&mut h, "root", spec.root.as_os_str().as_encoded_bytes());
    hash_project_files(&mut h, &spec.root)?;
    let mut extra: Vec<PathBuf> = spec.config_files.clone();
    extra.push(spec.root.join(".env"));
    if let EnvSource::UvWorkspace(ws) = &env.source {
        extra.push(ws.join("uv.lock"));
        extra.push(ws.join("pyproject.toml"));
    }
    for path in extra {
        field(&mut h, "file", path.as_os_str().as_encoded_bytes());
        hash_file(&mut h, &path)?;
    }
    field(
        &mut h,
        "interpreter",
        env.interpreter.as_os_str().as_encoded_bytes(),
    );
    hash_stat(&mut h, &env.interpreter);
    if let Some(venv) = &env.venv {
        hash_file(&mut h, &venv.join("pyvenv.cfg"))?;
    }
    for site in env.site_packages() {
        hash_site_packages(&mut h, &site);
    }
    // `dg check defs` sets `DAGSTER_IS_DEFS_VALIDATION_CLI`; counting it would make `dg check
    // defs` and `dg list defs` evict each other's snapshot on every call. Code that defines
    // different things while being validated is rare; `--no-cache` covers it.
    let mut host_vars: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("DAGSTER_") || k == "PYTHONPATH")
        .filter(|(k, _)| k != dg_config::env::DAGSTER_IS_DEFS_VALIDATION_CLI)
        .collect();
    host_vars.sort();
    for (k, v) in host_vars {
        field(&mut h, "var", format!("{k}={v}").as_bytes());
    }
    Ok(h.finalize().to_hex().to_string())
}

fn hash_project_files(h: &mut blake3::Hasher, root: &Path) -> io::Result<()> {
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .follow_links(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(|e| {
            !(e.file_type().is_some_and(|t| t.is_dir())
                && e.file_name()
                    .to_str()
                    .is_some_and(|n| SKIPPED_DIRS.contains(&n)))
        })
        .build();
    for entry in walker {
        let entry = entry.map_err(io::Error::other)?;
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
        h.update(b"path");
        h.update(rel.as_os_str().as_encoded_bytes());
        hash_file(h, entry.path())?;
    }
    Ok(())
}

fn hash_file(h: &mut blake3::Hasher, path: &Path) -> io::Result<()> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            h.update(b"missing");
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    if meta.len() > MAX_HASHED_FILE {
        hash_stat(h, path);
        return Ok(());
    }
    let mut file = std::fs::File::open(path)?;
    let mut buf = Vec::with_capacity(meta.len() as usize);
    file.read_to_end(&mut buf)?;
    h.update(b"content");
    h.update(&(buf.len() as u64).to_le_bytes());
    h.update(&buf);
    Ok(())
}

fn hash_stat(h: &mut blake3::Hasher, path: &Path) {
    match std::fs::metadata(path) {
        Ok(meta) => {
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            h.update(&meta.len().to_le_bytes());
            h.update(&mtime.to_le_bytes());
        }
        Err(_) => {
            h.update(b"missing");
        }
    }
}

fn hash_site_packages(h: &mut blake3::Hasher, site: &Path) {
    let Ok(entries) = std::fs::read_dir(site) else {
        return;
    };
    let mut names: Vec<(String, PathBuf)> = entries
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    names.sort();
    for (name, path) in names {
        h.update(name.as_bytes());
        h.update(b"\0");
        if name.ends_with(".dist-info") || name.ends_with(".pth") || name.ends_with(".egg-link") {
            hash_stat(h, &path);
        }
    }
}
