//! The snapshot cache: a location's snapshot, keyed by a content hash of everything loading depends
//! on, so that a repeated command with nothing changed starts no Python process at all.
//!
//! The key (blake3) covers: the snapshot schema, protocol and agent versions; the location's
//! settings; every file of the project that git would not ignore (`.gitignore` is respected even
//! outside a git repository; `.venv`, `.git`, `__pycache__`, tool caches and the Dagster instance
//! home are skipped), by path and content; the project's `.env`; the extra config files (the
//! workspace's `dg.toml`); the uv workspace's `uv.lock`; the interpreter (path, size, mtime) and
//! its environment's `pyvenv.cfg`; the listing of each `site-packages` folder with the mtimes of
//! its `*.dist-info`, `*.pth` and `*.egg-link` entries; and the host's `DAGSTER_*` and
//! `PYTHONPATH` variables. Code outside the project that it reads at import time (data files
//! elsewhere, editable sibling packages) is not covered: use `--no-cache` then.
//!
//! What loading itself writes must stay out of the key, or the load after a cached one misses:
//! Python's bytecode caches (`__pycache__`, also the one it creates at the top of
//! `site-packages` when it first imports a single-file module there), the instance home
//! (`.dagster`, `$DAGSTER_HOME` when it lies inside the project, the `.tmp_dagster_home_*` folders
//! of Dagster's own `dagster dev`). A file that vanishes while the key is computed counts as
//! missing rather than failing the key.
//!
//! Each entry keeps a short digest of every input beside the key ([`CacheKey`]), so a miss can say
//! what changed ([`CacheMiss`]).
//!
//! Entries live in `$DG_CACHE_DIR/snapshots` (default `$XDG_CACHE_HOME/dg`, else `~/.cache/dg`):
//! one JSON file per location (named by a hash of its root and name), overwritten on each load,
//! so the cache never grows beyond one entry per location.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use dg_core::env as vars;
use dg_python::{EnvSource, PythonEnvironment};
use serde::{Deserialize, Serialize};

use crate::location::LocationSpec;
use crate::package::agent_version;
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

/// Folder name prefixes never hashed: the temporary instance homes Dagster's `dagster dev`
/// creates in the folder it runs in.
const SKIPPED_DIR_PREFIXES: &[&str] = &[".tmp_dagster_home_"];

/// Names in `site-packages` left out of its listing: what Python writes there by itself.
const SKIPPED_SITE_ENTRIES: &[&str] = &["__pycache__"];

/// How many changed inputs a [`CacheMiss`] names before `and N more`.
const MAX_NAMED_CHANGES: usize = 4;

/// Where snapshots are cached.
#[derive(Debug, Clone)]
pub struct SnapshotCache {
    dir: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    key: String,
    /// Short digests of the inputs (absent in entries of older versions).
    #[serde(default)]
    inputs: BTreeMap<String, String>,
    snapshot: DefinitionsSnapshot,
}

/// The cache key of loading a location ([`cache_key`]), with a short digest of every input it
/// covers, by name: `file <path>` for files (project files relative to the project), `site
/// <entry>` for `site-packages` entries, `var <NAME>` for variables, and `versions`, `settings`,
/// `root`, `interpreter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheKey {
    /// Hex blake3 of every input.
    pub key: String,
    inputs: BTreeMap<String, String>,
}

/// The result of looking a location up in the cache.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// The cached snapshot: nothing it depends on changed.
    Hit(Box<DefinitionsSnapshot>),
    /// Why the cached snapshot (if any) cannot be used.
    Miss(CacheMiss),
}

/// Why a lookup missed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheMiss {
    /// Nothing is cached for this location yet.
    Empty,
    /// The entry is unreadable or of another snapshot schema.
    Unreadable,
    /// Inputs that differ from the cached entry's: `changed`, `added` or `removed` after the
    /// input's name (as [`CacheKey`] names them).
    Changed(Vec<String>),
}

impl fmt::Display for CacheMiss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CacheMiss::Empty => f.write_str("nothing cached yet"),
            CacheMiss::Unreadable => f.write_str("the cached entry is of another version of dg"),
            CacheMiss::Changed(changes) if changes.is_empty() => {
                f.write_str("the cached entry was made by another version of dg")
            }
            CacheMiss::Changed(changes) => {
                let named = changes.len().min(MAX_NAMED_CHANGES);
                f.write_str(&changes[..named].join(", "))?;
                if changes.len() > named {
                    write!(f, " and {} more", changes.len() - named)?;
                }
                Ok(())
            }
        }
    }
}

/// dg's cache folder: `$DG_CACHE_DIR`, else `$XDG_CACHE_HOME/dg`, else `~/.cache/dg`; `None` when
/// none of these can be determined.
pub fn cache_base() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    var(vars::DG_CACHE_DIR)
        .map(PathBuf::from)
        .or_else(|| var(vars::XDG_CACHE_HOME).map(|d| PathBuf::from(d).join("dg")))
        .or_else(|| var(vars::HOME).map(|h| PathBuf::from(h).join(".cache").join("dg")))
}

impl SnapshotCache {
    /// A cache in `dir` (created when first written).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The default cache: `$DG_CACHE_DIR/snapshots`, else `$XDG_CACHE_HOME/dg/snapshots`, else
    /// `~/.cache/dg/snapshots`; `None` when none of these can be determined.
    pub fn default_location() -> Option<Self> {
        Some(Self::new(cache_base()?.join("snapshots")))
    }

    /// The folder entries live in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The cached snapshot of `spec`, if its key is `key`.
    pub fn get(&self, spec: &LocationSpec, key: &str) -> Option<DefinitionsSnapshot> {
        let entry = self.read(spec).ok()??;
        (entry.key == key).then_some(entry.snapshot)
    }

    /// The cached snapshot of `spec` if its key is `key`, else why not.
    pub fn lookup(&self, spec: &LocationSpec, key: &CacheKey) -> Lookup {
        match self.read(spec) {
            Err(()) => Lookup::Miss(CacheMiss::Unreadable),
            Ok(None) => Lookup::Miss(CacheMiss::Empty),
            Ok(Some(entry)) if entry.key == key.key => Lookup::Hit(Box::new(entry.snapshot)),
            // An entry of a dg that did not record its inputs.
            Ok(Some(entry)) if entry.inputs.is_empty() => Lookup::Miss(CacheMiss::Changed(vec![])),
            Ok(Some(entry)) => Lookup::Miss(CacheMiss::Changed(key.changes_since(&entry.inputs))),
        }
    }

    /// The entry of `spec`: `Ok(None)` when there is none, `Err` when it cannot be used.
    fn read(&self, spec: &LocationSpec) -> Result<Option<Entry>, ()> {
        let text = match std::fs::read(self.entry_path(spec)) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(_) => return Err(()),
        };
        let entry: Entry = serde_json::from_slice(&text).map_err(|_| ())?;
        if entry.snapshot.schema_version != SCHEMA_VERSION {
            return Err(());
        }
        Ok(Some(entry))
    }

    /// Stores `snapshot` as the entry of `spec` under `key` (atomically: readers never see half a file).
    pub fn put(
        &self,
        spec: &LocationSpec,
        key: &CacheKey,
        snapshot: &DefinitionsSnapshot,
    ) -> io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let entry = Entry {
            key: key.key.clone(),
            inputs: key.inputs.clone(),
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

impl CacheKey {
    /// What differs from `before` (an entry's inputs), in name order.
    fn changes_since(&self, before: &BTreeMap<String, String>) -> Vec<String> {
        let mut changes = Vec::new();
        for (name, digest) in &self.inputs {
            match before.get(name) {
                Some(old) if old == digest => {}
                Some(_) => changes.push(format!("{} changed", display_name(name))),
                None => changes.push(format!("{} added", display_name(name))),
            }
        }
        for name in before.keys().filter(|n| !self.inputs.contains_key(*n)) {
            changes.push(format!("{} removed", display_name(name)));
        }
        changes
    }
}

/// An input's name as a miss names it: `` `src/a.py` ``, `` `__pycache__` in `site-packages` ``,
/// `` `$DAGSTER_HOME` ``, or the bare name.
fn display_name(name: &str) -> String {
    if let Some(path) = name.strip_prefix("file ") {
        format!("`{path}`")
    } else if let Some(entry) = name.strip_prefix("site ") {
        format!("`{entry}` in `site-packages`")
    } else if let Some(var) = name.strip_prefix("var ") {
        format!("`${var}`")
    } else {
        match name {
            "versions" => "the version of dg".into(),
            "settings" => "the location's settings".into(),
            "root" => "the project folder".into(),
            other => format!("the {other}"),
        }
    }
}

/// Collects the inputs of a key: one blake3 digest per named input.
struct Inputs(BTreeMap<String, blake3::Hash>);

impl Inputs {
    fn add(&mut self, name: String, digest: blake3::Hash) {
        self.0.insert(name, digest);
    }

    fn add_bytes(&mut self, name: impl Into<String>, value: &[u8]) {
        self.add(name.into(), blake3::hash(value));
    }

    fn finish(self) -> CacheKey {
        let mut h = blake3::Hasher::new();
        for (name, digest) in &self.0 {
            h.update(&(name.len() as u64).to_le_bytes());
            h.update(name.as_bytes());
            h.update(digest.as_bytes());
        }
        CacheKey {
            key: h.finalize().to_hex().to_string(),
            inputs: self
                .0
                .into_iter()
                .map(|(name, digest)| (name, digest.to_hex()[..16].to_owned()))
                .collect(),
        }
    }
}

/// The cache key of loading `spec` in `env`.
pub fn cache_key(spec: &LocationSpec, env: &PythonEnvironment) -> io::Result<CacheKey> {
    let mut inputs = Inputs(BTreeMap::new());
    inputs.add_bytes(
        "versions",
        format!("{SCHEMA_VERSION}/{PROTOCOL_VERSION}/{}", agent_version()).as_bytes(),
    );
    let settings = format!(
        "{}\0{}\0{:?}\0{:?}\0{:?}",
        spec.name, spec.root_module, spec.target_module, spec.defs_module, spec.working_directory
    );
    inputs.add_bytes("settings", settings.as_bytes());
    inputs.add_bytes("root", spec.root.as_os_str().as_encoded_bytes());
    let skipped = instance_homes(spec, env);
    hash_project_files(&mut inputs, &spec.root, &skipped)?;
    let mut extra: Vec<PathBuf> = spec.config_files.clone();
    extra.push(spec.root.join(".env"));
    if let EnvSource::UvWorkspace(ws) = &env.source {
        extra.push(ws.join("uv.lock"));
        extra.push(ws.join("pyproject.toml"));
    }
    for path in extra {
        inputs.add(format!("file {}", path.display()), hash_file(&path)?);
    }
    let mut interpreter = blake3::Hasher::new();
    interpreter.update(env.interpreter.as_os_str().as_encoded_bytes());
    hash_stat(&mut interpreter, &env.interpreter);
    if let Some(venv) = &env.venv {
        interpreter.update(hash_file(&venv.join("pyvenv.cfg"))?.as_bytes());
    }
    inputs.add("interpreter".into(), interpreter.finalize());
    for site in env.site_packages() {
        hash_site_packages(&mut inputs, &site);
    }
    // `dg check defs` sets `DAGSTER_IS_DEFS_VALIDATION_CLI`; counting it would make `dg check
    // defs` and `dg list defs` evict each other's snapshot on every call. Code that defines
    // different things while being validated is rare; `--no-cache` covers it.
    for (k, v) in std::env::vars() {
        if (k.starts_with("DAGSTER_") || k == "PYTHONPATH")
            && k != dg_core::env::DAGSTER_IS_DEFS_VALIDATION_CLI
        {
            inputs.add_bytes(format!("var {k}"), v.as_bytes());
        }
    }
    Ok(inputs.finish())
}

/// The instance homes inside the project that loading or running may write to: `$DAGSTER_HOME`
/// (from the host or the project's `.env`) when it lies under the project root.
fn instance_homes(spec: &LocationSpec, env: &PythonEnvironment) -> Vec<PathBuf> {
    let from_host = dg_core::home::dagster_home_from_env();
    let from_dotenv = env
        .dotenv
        .get(vars::DAGSTER_HOME)
        .map(|home| spec.root.join(home));
    let root = spec
        .root
        .canonicalize()
        .unwrap_or_else(|_| spec.root.clone());
    from_host
        .into_iter()
        .chain(from_dotenv)
        .map(|home| home.canonicalize().unwrap_or(home))
        .filter(|home| home.starts_with(&root) && home != &root)
        .collect()
}

fn hash_project_files(inputs: &mut Inputs, root: &Path, skipped: &[PathBuf]) -> io::Result<()> {
    let skipped = skipped.to_vec();
    let walk_root = root.to_path_buf();
    let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .follow_links(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(move |e| {
            if !e.file_type().is_some_and(|t| t.is_dir()) {
                return true;
            }
            let name = e.file_name().to_string_lossy();
            if SKIPPED_DIRS.contains(&name.as_ref())
                || SKIPPED_DIR_PREFIXES.iter().any(|p| name.starts_with(p))
            {
                return false;
            }
            // Compare in the canonical form `instance_homes` uses (the root may be a symlink).
            let path = match e.path().strip_prefix(&walk_root) {
                Ok(rel) => canonical_root.join(rel),
                Err(_) => e.path().to_path_buf(),
            };
            !skipped.contains(&path)
        })
        .build();
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            // Something that vanished between listing its folder and reading it (a temporary
            // file of another process) is not part of the project.
            Err(e)
                if e.io_error()
                    .is_some_and(|io| io.kind() == io::ErrorKind::NotFound) =>
            {
                continue
            }
            Err(e) => return Err(io::Error::other(e)),
        };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
        inputs.add(format!("file {}", rel.display()), hash_file(entry.path())?);
    }
    Ok(())
}

/// The digest of a file's content (`missing` when it does not exist, size and mtime when it is
/// larger than [`MAX_HASHED_FILE`]).
fn hash_file(path: &Path) -> io::Result<blake3::Hash> {
    let mut h = blake3::Hasher::new();
    let missing = |mut h: blake3::Hasher| {
        h.update(b"missing");
        Ok(h.finalize())
    };
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return missing(h),
        Err(e) => return Err(e),
    };
    if meta.len() > MAX_HASHED_FILE {
        hash_stat(&mut h, path);
        return Ok(h.finalize());
    }
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return missing(h),
        Err(e) => return Err(e),
    };
    let mut buf = Vec::with_capacity(meta.len() as usize);
    file.read_to_end(&mut buf)?;
    h.update(b"content");
    h.update(&buf);
    Ok(h.finalize())
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

/// One input per entry of `site`: its name, and for `*.dist-info`, `*.pth` and `*.egg-link` (what
/// an install or uninstall rewrites) its size and mtime.
fn hash_site_packages(inputs: &mut Inputs, site: &Path) {
    let Ok(entries) = std::fs::read_dir(site) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if SKIPPED_SITE_ENTRIES.contains(&name.as_str()) {
            continue;
        }
        let mut h = blake3::Hasher::new();
        h.update(site.as_os_str().as_encoded_bytes());
        if name.ends_with(".dist-info") || name.ends_with(".pth") || name.ends_with(".egg-link") {
            hash_stat(&mut h, &entry.path());
        }
        inputs.add(format!("site {name}"), h.finalize());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(inputs: &[(&str, &str)]) -> CacheKey {
        let mut all = Inputs(BTreeMap::new());
        for (name, value) in inputs {
            all.add_bytes(*name, value.as_bytes());
        }
        all.finish()
    }

    #[test]
    fn a_miss_names_what_changed() {
        let before = key(&[
            ("file a.py", "1"),
            ("file b.py", "1"),
            ("var DAGSTER_X", "1"),
        ]);
        let after = key(&[
            ("file a.py", "2"),
            ("file c.py", "1"),
            ("var DAGSTER_X", "1"),
        ]);
        assert_ne!(before.key, after.key);
        let miss = CacheMiss::Changed(after.changes_since(&before.inputs));
        assert_eq!(
            miss.to_string(),
            "`a.py` changed, `c.py` added, `b.py` removed"
        );
        let many = key(&[
            ("site a", ""),
            ("site b", ""),
            ("site c", ""),
            ("site d", ""),
            ("site e", ""),
        ]);
        let miss = CacheMiss::Changed(many.changes_since(&BTreeMap::new()));
        assert_eq!(
            miss.to_string(),
            "`a` in `site-packages` added, `b` in `site-packages` added, `c` in `site-packages` \
             added, `d` in `site-packages` added and 1 more"
        );
    }

    #[test]
    fn the_key_depends_on_names_and_values_only() {
        assert_eq!(
            key(&[("x", "1"), ("y", "2")]),
            key(&[("y", "2"), ("x", "1")])
        );
        assert_ne!(key(&[("x", "1")]).key, key(&[("x", "2")]).key);
        assert_ne!(key(&[("x", "1")]).key, key(&[("y", "1")]).key);
    }
}
