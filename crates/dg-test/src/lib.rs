//! The test context of dg's command-line tests: one temporary folder per test with its own home,
//! config and cache folders, helpers to write files and run the real `dg` and `create-dagster`
//! binaries, and filters that make their output stable enough for insta inline snapshots.
//!
//! Nothing here fakes the tools under test: commands run the built binaries with real `uv` and
//! Python on the `PATH`.

pub mod chromium;
pub mod procs;
pub mod python;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use dg_config::env;

pub use insta;

/// Runs a command through a [`TestContext`] and compares its filtered output with an inline
/// snapshot: `dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]), @"...")`.
#[macro_export]
macro_rules! dg_snapshot {
    ($ctx:expr, $cmd:expr, @$snapshot:literal) => {{
        let output = $ctx.run($cmd);
        $crate::insta::assert_snapshot!(output, @$snapshot);
    }};
    ($ctx:expr, $cmd:expr) => {{
        let output = $ctx.run($cmd);
        $crate::insta::assert_snapshot!(output);
    }};
}

/// One test's world: a temp folder, an isolated environment and output filters.
#[derive(Debug)]
pub struct TestContext {
    /// The working directory of commands (inside the temp folder).
    pub root: PathBuf,
    /// `HOME` of commands.
    pub home: PathBuf,
    /// `XDG_CONFIG_HOME` of commands (where the user file `dg.toml` goes).
    pub config_dir: PathBuf,
    /// `XDG_CACHE_HOME` of commands.
    pub cache_dir: PathBuf,
    filters: Vec<(String, String)>,
    bin_dir: PathBuf,
    shared_uv_cache: Option<PathBuf>,
    _temp: tempfile::TempDir,
}

impl Default for TestContext {
    fn default() -> Self {
        Self::new()
    }
}

impl TestContext {
    /// A fresh context. Panics when the temp folder cannot be created.
    pub fn new() -> Self {
        let temp = tempfile::Builder::new()
            .prefix("dg-test-")
            .tempdir()
            .expect("create a temp folder");
        // Canonical, so that paths printed by the binaries (which may resolve symlinks) match.
        let base = dunce(temp.path());
        let root = base.join("work");
        let home = base.join("home");
        let config_dir = home.join(".config");
        let cache_dir = base.join("cache");
        for dir in [&root, &home, &config_dir, &cache_dir] {
            std::fs::create_dir_all(dir).expect("create test folders");
        }
        let mut filters = Vec::new();
        for path in [base.clone(), temp.path().to_path_buf()] {
            filters.push((
                regex::escape(&path.display().to_string()),
                "[TEMP]".to_string(),
            ));
        }
        Self {
            root,
            home,
            config_dir,
            cache_dir,
            filters,
            bin_dir: bin_dir(),
            shared_uv_cache: shared_uv_cache(),
            _temp: temp,
        }
    }

    /// An absolute path inside [`TestContext::root`].
    pub fn path(&self, relative: impl AsRef<Path>) -> PathBuf {
        self.root.join(relative)
    }

    /// Creates a folder (and its parents) inside the root; returns its path.
    pub fn mkdir(&self, relative: impl AsRef<Path>) -> PathBuf {
        let path = self.path(relative);
        std::fs::create_dir_all(&path).expect("create folder");
        path
    }

    /// Writes a file inside the root, creating its folders; returns its path.
    pub fn write(&self, relative: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent folders");
        }
        std::fs::write(&path, contents).expect("write file");
        path
    }

    /// Reads a file inside the root as text.
    pub fn read(&self, relative: impl AsRef<Path>) -> String {
        std::fs::read_to_string(self.path(relative)).expect("read file")
    }

    /// Writes the user config file (`$XDG_CONFIG_HOME/dg.toml`); returns its path.
    pub fn write_user_config(&self, contents: &str) -> PathBuf {
        let path = self.config_dir.join("dg.toml");
        std::fs::write(&path, contents).expect("write user config");
        path
    }

    /// Adds an output filter: every match of `regex` becomes `replacement`.
    #[must_use]
    pub fn with_filter(mut self, regex: &str, replacement: &str) -> Self {
        self.filters
            .push((regex.to_string(), replacement.to_string()));
        self
    }

    /// Replaces durations such as `1.23s`, `15ms` or `2m 3s` with `[TIME]`.
    #[must_use]
    pub fn with_filtered_durations(self) -> Self {
        self.with_filter(
            r"\b\d+(\.\d+)?\s?(ms|s|m|h)\b( \d+(\.\d+)?\s?(ms|s)\b)?",
            "[TIME]",
        )
    }

    /// Replaces `127.0.0.1:<port>` and `localhost:<port>` ports with `[PORT]`.
    #[must_use]
    pub fn with_filtered_ports(self) -> Self {
        self.with_filter(r"(127\.0\.0\.1|localhost|0\.0\.0\.0):\d+", "$1:[PORT]")
    }

    /// Replaces UUIDs (run ids, event ids) with `[RUN_ID]`.
    #[must_use]
    pub fn with_filtered_run_ids(self) -> Self {
        self.with_filter(
            r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
            "[RUN_ID]",
        )
    }

    /// The filters, in the order they apply.
    pub fn filters(&self) -> &[(String, String)] {
        &self.filters
    }

    /// The `dg` binary with the test environment, run in the root.
    pub fn dg(&self) -> Command {
        self.command(self.bin("dg"))
    }

    /// The `create-dagster` binary with the test environment, run in the root.
    pub fn create_dagster(&self) -> Command {
        self.command(self.bin("create-dagster"))
    }

    /// Any program with the test environment, run in the root.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(&self.root);
        for (key, _) in std::env::vars_os() {
            if leaks_into_tests(&key) {
                cmd.env_remove(key);
            }
        }
        cmd.env(env::HOME, &self.home)
            .env(env::XDG_CONFIG_HOME, &self.config_dir)
            .env(env::XDG_CACHE_HOME, &self.cache_dir)
            .env(env::NO_COLOR, "1")
            .env(env::UV_PYTHON_DOWNLOADS, "never");
        if let Some(cache) = &self.shared_uv_cache {
            cmd.env(env::UV_CACHE_DIR, cache);
        }
        cmd
    }

    /// The path of a binary of this workspace (`dg`, `create-dagster`).
    pub fn bin(&self, name: &str) -> PathBuf {
        let path = self
            .bin_dir
            .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        assert!(
            path.is_file(),
            "`{}` is not built; run `cargo build -p {name}` (or `cargo test` from the workspace root)",
            path.display()
        );
        path
    }

    /// Runs `cmd` and renders its result for a snapshot: success, exit code, stdout, stderr.
    pub fn run(&self, cmd: &mut Command) -> String {
        let output = cmd
            .output()
            .unwrap_or_else(|e| panic!("failed to run {cmd:?}: {e}"));
        let rendered = format!(
            "success: {}\nexit_code: {}\n----- stdout -----\n{}\n----- stderr -----\n{}",
            output.status.success(),
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
        self.filter(&rendered)
    }

    /// Applies the filters to `text`.
    pub fn filter(&self, text: &str) -> String {
        let mut text = text.to_string();
        for (pattern, replacement) in &self.filters {
            let re = regex::Regex::new(pattern).expect("valid filter regex");
            text = re.replace_all(&text, replacement.as_str()).into_owned();
        }
        text
    }
}

/// Whether a variable of the developer's shell must be removed from test commands: dg's own
/// settings (`DG_*`, except `DG_TEST_*` which configure the tests and `DG_UV` which names the uv to
/// use), the instance home, and an activated virtual environment.
fn leaks_into_tests(key: &OsStr) -> bool {
    let name = key.to_string_lossy();
    (name.starts_with("DG_") && !name.starts_with("DG_TEST_") && name != env::DG_UV)
        || name == env::DAGSTER_HOME
        || name == env::VIRTUAL_ENV
}

/// `target/<profile>/`: the parent of the `deps/` folder that holds the test executable.
fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("path of the test executable");
    let mut dir = exe
        .parent()
        .expect("test executable has a folder")
        .to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir
}

/// The developer's uv cache, so that tests share built environments.
fn shared_uv_cache() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var(env::UV_CACHE_DIR) {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = var(env::XDG_CACHE_HOME) {
        return Some(PathBuf::from(dir).join("uv"));
    }
    var(env::HOME).map(|home| PathBuf::from(home).join(".cache").join("uv"))
}

/// The canonical form of a path (symlinks resolved), falling back to the path itself.
fn dunce(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn developer_settings_are_removed() {
        for name in [
            "DG_CLI_CONFIG",
            "DG_CACHE_DIR",
            "DAGSTER_HOME",
            "VIRTUAL_ENV",
        ] {
            assert!(leaks_into_tests(OsStr::new(name)), "{name}");
        }
        for name in [
            "DG_TEST_POSTGRES_URL",
            "DG_UV",
            "PATH",
            "PYENV_ROOT",
            "UV_CACHE_DIR",
        ] {
            assert!(!leaks_into_tests(OsStr::new(name)), "{name}");
        }
    }
}
