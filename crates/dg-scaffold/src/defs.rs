//! `dg scaffold defs <type> <path>`: one small, working Python file per built-in Dagster
//! definition type, written under the project's defs folder.
//!
//! The path is checked before anything is written: it must be relative, end in `.py`, stay inside
//! the defs folder (also through symlinks), name importable modules, and not exist yet.

use std::fs;
use std::path::{Component, Path, PathBuf};

use minijinja::context;

use crate::error::ScaffoldError;
use crate::layout::{canonical_prefix, first_missing_ancestor};
use crate::names::is_python_identifier;
use crate::templates::render;

/// A definition type `dg scaffold defs` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefsType {
    /// The full name, as Dagster spells it (`dagster.asset`).
    pub name: &'static str,
    /// The name without its `dagster.` prefix, also accepted (`asset`).
    pub short: &'static str,
    /// One line for `--help`.
    pub summary: &'static str,
}

/// Every type we scaffold, in the order `--help` lists them.
pub const DEFS_TYPES: &[DefsType] = &[
    DefsType {
        name: "dagster.asset",
        short: "asset",
        summary: "an asset computed by one Python function",
    },
    DefsType {
        name: "dagster.asset_check",
        short: "asset_check",
        summary: "a check of an asset's data (needs `--asset-key`)",
    },
    DefsType {
        name: "dagster.multi_asset",
        short: "multi_asset",
        summary: "several assets computed by one Python function",
    },
    DefsType {
        name: "dagster.job",
        short: "job",
        summary: "a job with one op",
    },
    DefsType {
        name: "dagster.schedule",
        short: "schedule",
        summary: "a daily schedule of every asset",
    },
    DefsType {
        name: "dagster.sensor",
        short: "sensor",
        summary: "a sensor checked every 30 seconds",
    },
    DefsType {
        name: "dagster.resources",
        short: "resources",
        summary: "the resources shared by the project's definitions",
    },
];

/// Finds the type named `given` (full or short name), or says which types exist and which one the
/// user probably meant.
pub fn find_type(given: &str) -> Result<&'static DefsType, ScaffoldError> {
    if let Some(t) = DEFS_TYPES
        .iter()
        .find(|t| t.name == given || t.short == given)
    {
        return Ok(t);
    }
    let score = |t: &DefsType| {
        let g = given.to_ascii_lowercase();
        strsim::normalized_damerau_levenshtein(&g, t.name)
            .max(strsim::normalized_damerau_levenshtein(&g, t.short))
    };
    let closest = DEFS_TYPES
        .iter()
        .map(|t| (score(t), t.name))
        .filter(|(s, _)| *s >= 0.5)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, n)| n);
    Err(ScaffoldError::UnknownDefsType {
        given: given.to_owned(),
        known: DEFS_TYPES.iter().map(|t| t.name).collect(),
        closest,
    })
}

/// What to scaffold.
#[derive(Debug, Clone)]
pub struct DefsRequest {
    /// The project's defs folder (absolute), e.g. `<root>/src/<package>/defs`.
    pub defs_dir: PathBuf,
    /// The type as the user wrote it.
    pub type_name: String,
    /// The path as the user wrote it, relative to the defs folder.
    pub path: String,
    /// `--asset-key` (`a/b` for a key with two parts), for `dagster.asset_check`.
    pub asset_key: Option<String>,
}

/// Writes the file of `req` and returns its absolute path.
pub fn scaffold_defs(req: &DefsRequest) -> Result<PathBuf, ScaffoldError> {
    let kind = find_type(&req.type_name)?;
    if req.defs_dir.extension().is_some_and(|e| e == "py") {
        return Err(ScaffoldError::DefsModuleIsFile {
            path: req.defs_dir.clone(),
        });
    }
    let rel = check_defs_path(&req.path)?;
    let target = req.defs_dir.join(&rel);
    let canon_defs = canonical_prefix(&req.defs_dir);
    if !canonical_prefix(&target).starts_with(&canon_defs) {
        return Err(invalid(
            &req.path,
            "it leads outside the defs folder through a symbolic link",
            Some("Pick a path whose folders are real folders inside the defs folder.".to_owned()),
        ));
    }
    if target.exists() {
        return Err(ScaffoldError::DefsPathExists { path: target });
    }
    let name = rel
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let contents = match kind.short {
        "asset_check" => {
            let key = req
                .asset_key
                .as_deref()
                .ok_or_else(|| ScaffoldError::MissingDefsOption {
                    type_name: kind.name,
                    option: "--asset-key",
                    example: format!(
                        "dg scaffold defs {} {} --asset-key my_asset",
                        kind.name, req.path
                    ),
                })?;
            let parts = asset_key_parts(key)?;
            let literal = format!(
                "[{}]",
                parts
                    .iter()
                    .map(|p| format!("\"{p}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            render(
                "defs/asset_check.py",
                context! { name => &name, asset_key => parts.join("/"), asset_key_path => literal },
            )?
        }
        short => render(&format!("defs/{short}.py"), context! { name => &name })?,
    };
    let parent = target.parent().unwrap_or(&req.defs_dir).to_owned();
    let created_top = first_missing_ancestor(&parent);
    let written = fs::create_dir_all(&parent)
        .map_err(ScaffoldError::io(&parent))
        .and_then(|()| fs::write(&target, contents).map_err(ScaffoldError::io(&target)));
    if written.is_err() {
        if let Some(top) = created_top {
            let _ = fs::remove_dir_all(top);
        }
    }
    written.map(|()| target)
}

fn invalid(path: &str, reason: &str, hint: Option<String>) -> ScaffoldError {
    ScaffoldError::InvalidDefsPath {
        path: path.to_owned(),
        reason: reason.to_owned(),
        hint,
    }
}

/// Checks the user's path lexically and returns it cleaned, relative to the defs folder.
fn check_defs_path(path: &str) -> Result<PathBuf, ScaffoldError> {
    let p = Path::new(path);
    let relative_hint = || {
        Some("Pass a path relative to the project's defs folder, such as `my_asset.py` or `sales/orders.py`.".to_owned())
    };
    if path.is_empty() {
        return Err(invalid(path, "the path is empty", relative_hint()));
    }
    if p.is_absolute() || p.has_root() {
        return Err(invalid(
            path,
            "it is absolute, and definitions live in the project's defs folder",
            relative_hint(),
        ));
    }
    let mut clean = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !clean.pop() {
                    return Err(invalid(
                        path,
                        "it leads outside the defs folder",
                        relative_hint(),
                    ));
                }
            }
            Component::Normal(part) => clean.push(part),
            Component::Prefix(_) | Component::RootDir => {
                return Err(invalid(path, "it is absolute", relative_hint()))
            }
        }
    }
    if clean.extension().and_then(|e| e.to_str()) != Some("py") {
        let stem = path.trim_end_matches('/');
        return Err(invalid(
            path,
            "the file name must end in `.py`",
            Some(format!("Use `{stem}.py`.")),
        ));
    }
    let mut parts: Vec<String> = clean
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.last_mut() {
        last.truncate(last.len() - ".py".len());
    }
    for part in &parts {
        if !is_python_identifier(part) {
            let fixed: Vec<String> = parts.iter().map(|p| to_identifier(p)).collect();
            let suggestion = format!("{}.py", fixed.join("/"));
            return Err(invalid(
                path,
                &format!("`{part}` is not a Python identifier, so Dagster could not import it as a module"),
                Some(format!("Use letters, digits and `_`, such as `{suggestion}`.")),
            ));
        }
    }
    Ok(clean)
}

/// A Python identifier close to `part`, for suggestions: other characters become `_`, a leading
/// digit gets `my_` before it, a keyword gets `_` after it.
fn to_identifier(part: &str) -> String {
    if is_python_identifier(part) {
        return part.to_owned();
    }
    let mut out: String = part
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if out.trim_matches('_').is_empty() {
        return "my_defs".to_owned();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "my_");
    }
    if !is_python_identifier(&out) {
        // Only a keyword is left to fix.
        out.push('_');
    }
    out
}

/// `a/b` -> `["a", "b"]`; each part holds only letters, digits and `_`, as Dagster requires.
fn asset_key_parts(key: &str) -> Result<Vec<String>, ScaffoldError> {
    let parts: Vec<String> = key.split('/').map(str::to_owned).collect();
    let ok = |p: &String| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if parts.iter().all(ok) {
        Ok(parts)
    } else {
        Err(ScaffoldError::InvalidAssetKey {
            key: key.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closest(given: &str) -> Option<&'static str> {
        match find_type(given) {
            Err(ScaffoldError::UnknownDefsType { closest, .. }) => closest,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn full_and_short_names_and_suggestions() {
        assert_eq!(find_type("dagster.asset").unwrap().short, "asset");
        assert_eq!(find_type("sensor").unwrap().name, "dagster.sensor");
        assert_eq!(closest("dagster.asst"), Some("dagster.asset"));
        assert_eq!(closest("dagster.schedul"), Some("dagster.schedule"));
        assert_eq!(closest("multiasset"), Some("dagster.multi_asset"));
        assert_eq!(closest("kubernetes_pod"), None);
    }

    #[test]
    fn paths_are_checked_lexically() {
        assert_eq!(
            check_defs_path("a/./b.py").unwrap(),
            PathBuf::from("a/b.py")
        );
        assert_eq!(check_defs_path("a/../b.py").unwrap(), PathBuf::from("b.py"));
        for bad in [
            "",
            "/tmp/x.py",
            "../x.py",
            "a/../../x.py",
            "x",
            "x.txt",
            "my-asset.py",
            "class.py",
            "1a/b.py",
        ] {
            assert!(check_defs_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn suggestions_are_valid_names() {
        // Before, the hint for `1x.py` was "such as `1x.py`": the name it had just refused.
        for (bad, fixed) in [
            ("1x.py", "my_1x.py"),
            ("class.py", "class_.py"),
            ("my-asset.py", "my_asset.py"),
            ("caf\u{e9}.py", "caf_.py"),
            ("sub.py/2nd.py", "sub_py/my_2nd.py"),
            ("--.py", "my_defs.py"),
        ] {
            match check_defs_path(bad) {
                Err(ScaffoldError::InvalidDefsPath { hint: Some(h), .. }) => {
                    assert!(h.contains(&format!("`{fixed}`")), "{bad}: {h}");
                    assert!(check_defs_path(fixed).is_ok(), "{fixed}");
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn writes_nested_files_and_refuses_existing_ones() {
        let tmp = tempfile::tempdir().unwrap();
        let req = DefsRequest {
            defs_dir: tmp.path().join("defs"),
            type_name: "asset".into(),
            path: "sales/orders.py".into(),
            asset_key: None,
        };
        let written = scaffold_defs(&req).unwrap();
        assert_eq!(written, tmp.path().join("defs/sales/orders.py"));
        assert!(fs::read_to_string(&written)
            .unwrap()
            .contains("def orders("));
        assert!(matches!(
            scaffold_defs(&req),
            Err(ScaffoldError::DefsPathExists { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_out_of_the_defs_folder_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let defs = tmp.path().join("defs");
        fs::create_dir_all(&defs).unwrap();
        fs::create_dir_all(tmp.path().join("outside")).unwrap();
        std::os::unix::fs::symlink(tmp.path().join("outside"), defs.join("link")).unwrap();
        let err = scaffold_defs(&DefsRequest {
            defs_dir: defs,
            type_name: "asset".into(),
            path: "link/x.py".into(),
            asset_key: None,
        })
        .unwrap_err();
        assert!(
            matches!(err, ScaffoldError::InvalidDefsPath { .. }),
            "{err:?}"
        );
        assert!(!tmp.path().join("outside/x.py").exists());
    }

    #[test]
    fn asset_check_needs_a_valid_key() {
        let tmp = tempfile::tempdir().unwrap();
        let mut req = DefsRequest {
            defs_dir: tmp.path().to_owned(),
            type_name: "dagster.asset_check".into(),
            path: "check_orders.py".into(),
            asset_key: None,
        };
        assert!(matches!(
            scaffold_defs(&req),
            Err(ScaffoldError::MissingDefsOption { .. })
        ));
        req.asset_key = Some("raw orders".into());
        assert!(matches!(
            scaffold_defs(&req),
            Err(ScaffoldError::InvalidAssetKey { .. })
        ));
        req.asset_key = Some("raw/orders".into());
        let text = fs::read_to_string(scaffold_defs(&req).unwrap()).unwrap();
        assert!(text.contains(r#"dg.AssetKey(["raw", "orders"])"#), "{text}");
    }
}
