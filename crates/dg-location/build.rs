//! Embeds the agent package: every `.py` file of `agent/_dg_agent/`, listed at build time, so a
//! new module needs no change here.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let dir = manifest.join("agent").join("_dg_agent");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("agent/_dg_agent exists")
        .map(|entry| entry.expect("read agent/_dg_agent").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "py"))
        .collect();
    files.sort();
    let mut out =
        String::from("/// The agent package's files: name and content, sorted by name.\n");
    out.push_str("pub const AGENT_FILES: &[(&str, &str)] = &[\n");
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("UTF-8 file name");
        let path = path.to_str().expect("UTF-8 path");
        writeln!(out, "    ({name:?}, include_str!({path:?})),").expect("write to a String");
    }
    out.push_str("];\n");
    let target =
        PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("agent_files.rs");
    std::fs::write(target, out).expect("write agent_files.rs");
}
