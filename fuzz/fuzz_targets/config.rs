//! The config parser: arbitrary bytes as a `dg.toml`, a `pyproject.toml` or the user's
//! `~/.dg.toml`, read the way dg reads them (find the folder's dg file, then validate it; or load
//! it by path), in a private folder per fuzzing process.
//!
//! The first byte chooses the file; the rest is its content (not necessarily UTF-8: that error
//! path is part of the parser). Besides "no panic, no hang": every error renders, and an error
//! that points into the file names a line and column inside it.

#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use dg_config::{load_config_file, load_found_file, locate_in_folder, ConfigError, Diagnostic};
use libfuzzer_sys::fuzz_target;

/// A folder of this process's own (in memory when `/dev/shm` exists).
fn folder() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = Path::new("/dev/shm");
        let base = if base.is_dir() {
            base.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("dg-fuzz-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a scratch folder");
        dir
    })
}

fn check(err: &ConfigError, text: &[u8]) {
    let _ = (err.to_string(), err.hint(), err.exit_code());
    if let Some(location) = err.location() {
        let lines = text.split(|b| *b == b'\n').count();
        assert!(
            location.line >= 1 && location.line <= lines,
            "line {} of {lines}: {err}",
            location.line
        );
        assert!(location.column >= 1, "{err}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, text)) = data.split_first() else {
        return;
    };
    let dir = folder();
    for name in ["dg.toml", "pyproject.toml", ".dg.toml"] {
        let _ = std::fs::remove_file(dir.join(name));
    }
    let name = match choice % 3 {
        0 => "dg.toml",
        1 => "pyproject.toml",
        _ => ".dg.toml",
    };
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write the file");
    if name == ".dg.toml" {
        if let Err(err) = dg_config::file::load_user_file(&path) {
            check(&err, text);
        }
        return;
    }
    match locate_in_folder(dir) {
        Ok(Some(found)) => {
            if let Err(err) = load_found_file(&found) {
                check(&err, text);
            }
        }
        Ok(None) => {}
        Err(err) => check(&err, text),
    }
    if let Err(err) = load_config_file(&path) {
        check(&err, text);
    }
});
