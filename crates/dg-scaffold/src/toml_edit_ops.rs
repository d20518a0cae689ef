//! Format-preserving edits of the user's TOML files (`dg.toml`), with `toml_edit`.
//!
//! Comments, key order, blank lines and quoting of everything we do not touch survive byte for
//! byte: we never rewrite a user's file by serialising a struct.

use std::path::Path;

use toml_edit::{ArrayOfTables, DocumentMut, InlineTable, Item, Table, Value};

use crate::error::ScaffoldError;

/// Returns `source` (a workspace's `dg.toml`) with one more `[[workspace.projects]]` entry whose
/// `path` is `project_path` (relative to the workspace root, `/`-separated).
///
/// The entry goes after the existing ones, with a blank line before it; a workspace that lists its
/// projects as an inline array (`projects = [{ path = "a" }]`) gets one more inline table. A path
/// that is listed already (compared after normalising `./` and trailing `/`) is refused.
pub fn add_workspace_project(
    source: &str,
    dg_toml: &Path,
    project_path: &str,
) -> Result<String, ScaffoldError> {
    let config_err = |reason: String| ScaffoldError::WorkspaceConfig {
        dg_toml: dg_toml.to_owned(),
        reason,
    };
    let mut doc: DocumentMut = source
        .parse()
        .map_err(|e: toml_edit::TomlError| config_err(e.to_string().trim_end().to_owned()))?;

    let listed = workspace_projects(&doc).map_err(config_err)?;
    let wanted = normalize(project_path);
    if listed.iter().any(|p| normalize(p) == wanted) {
        return Err(ScaffoldError::ProjectAlreadyListed {
            dg_toml: dg_toml.to_owned(),
            project: wanted,
        });
    }

    let workspace = doc
        .entry("workspace")
        .or_insert_with(|| Item::Table(Table::new()));
    let workspace = workspace
        .as_table_like_mut()
        .ok_or_else(|| config_err("`workspace` is not a table".to_owned()))?;
    match workspace.get_mut("projects") {
        None => {
            let mut entry = Table::new();
            entry.insert("path", toml_edit::value(wanted));
            entry.decor_mut().set_prefix("\n");
            let mut aot = ArrayOfTables::new();
            aot.push(entry);
            workspace.insert("projects", Item::ArrayOfTables(aot));
        }
        Some(Item::ArrayOfTables(aot)) => {
            let mut entry = Table::new();
            entry.insert("path", toml_edit::value(wanted));
            entry.decor_mut().set_prefix("\n");
            aot.push(entry);
        }
        Some(Item::Value(Value::Array(array))) => {
            let mut entry = InlineTable::new();
            entry.insert("path", wanted.into());
            entry.fmt();
            array.push(entry);
            // Lay the new entry out like the one before it (one per line, or `[a, b]`), and move
            // the space before the closing bracket behind the new entry.
            let n = array.len();
            if n >= 2 {
                let before = |v: Option<&Value>| {
                    let decor = v.map(Value::decor);
                    let get = |d: Option<&toml_edit::RawString>| {
                        d.and_then(|r| r.as_str()).unwrap_or_default().to_owned()
                    };
                    (
                        get(decor.and_then(|d| d.prefix())),
                        get(decor.and_then(|d| d.suffix())),
                    )
                };
                let (prefix, suffix) = before(array.get(n - 2));
                if let Some(prev) = array.get_mut(n - 2) {
                    if !array_is_multiline(&prefix) {
                        prev.decor_mut().set_suffix("");
                    }
                }
                if let Some(last) = array.get_mut(n - 1) {
                    last.decor_mut()
                        .set_prefix(if prefix.is_empty() { " " } else { &prefix });
                    if !array_is_multiline(&prefix) {
                        last.decor_mut().set_suffix(suffix);
                    }
                }
            }
        }
        Some(_) => {
            return Err(config_err(
                "`workspace.projects` is neither `[[workspace.projects]]` tables nor an array"
                    .to_owned(),
            ))
        }
    }
    Ok(keep_line_endings(source, doc.to_string()))
}

/// `toml_edit` writes `\n` line endings; a file written with `\r\n` keeps them, so that an edit
/// changes only the lines it adds.
fn keep_line_endings(source: &str, edited: String) -> String {
    if source.contains("\r\n") {
        edited.replace("\r\n", "\n").replace('\n', "\r\n")
    } else {
        edited
    }
}

/// Whether the whitespace before an array entry puts it on its own line.
fn array_is_multiline(prefix: &str) -> bool {
    prefix.contains('\n')
}

/// The `path` of every project listed in `workspace.projects` of a parsed `dg.toml`.
fn workspace_projects(doc: &DocumentMut) -> Result<Vec<String>, String> {
    let Some(projects) = doc
        .get("workspace")
        .and_then(Item::as_table_like)
        .and_then(|w| w.get("projects"))
    else {
        return Ok(Vec::new());
    };
    let entries: Vec<&dyn toml_edit::TableLike> = match projects {
        Item::ArrayOfTables(aot) => aot.iter().map(|t| t as &dyn toml_edit::TableLike).collect(),
        Item::Value(Value::Array(array)) => array
            .iter()
            .filter_map(Value::as_inline_table)
            .map(|t| t as &dyn toml_edit::TableLike)
            .collect(),
        _ => return Err("`workspace.projects` is not a list of tables".to_owned()),
    };
    Ok(entries
        .into_iter()
        .filter_map(|t| t.get("path").and_then(Item::as_str).map(str::to_owned))
        .collect())
}

/// `./projects//a/` and `projects/a` name the same project.
fn normalize(path: &str) -> String {
    path.replace('\\', "/")
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(source: &str, path: &str) -> String {
        add_workspace_project(source, Path::new("dg.toml"), path).unwrap()
    }

    #[test]
    fn fresh_workspace_gets_its_first_project() {
        let out = add(
            "directory_type = \"workspace\"\n\n[workspace]\n",
            "projects/a",
        );
        insta::assert_snapshot!(out, @r#"
        directory_type = "workspace"

        [workspace]

        [[workspace.projects]]
        path = "projects/a"
        "#);
        let out = add(&out, "projects/b");
        insta::assert_snapshot!(out, @r#"
        directory_type = "workspace"

        [workspace]

        [[workspace.projects]]
        path = "projects/a"

        [[workspace.projects]]
        path = "projects/b"
        "#);
    }

    #[test]
    fn comments_order_and_odd_formatting_survive() {
        let source = r#"# Our workspace.   Keep this comment.
directory_type    =   'workspace'   # odd spacing, single quotes

[workspace]
# the projects, oldest first
[[workspace.projects]]
path = 'projects/old'    # trailing comment
code_location_name="legacy"

[cli]
verbose = true   # keep me after the projects
suppress_warnings = [ "a",
    "b" ]
"#;
        insta::assert_snapshot!(add(source, "projects/new"), @r#"
        # Our workspace.   Keep this comment.
        directory_type    =   'workspace'   # odd spacing, single quotes

        [workspace]
        # the projects, oldest first
        [[workspace.projects]]
        path = 'projects/old'    # trailing comment
        code_location_name="legacy"

        [[workspace.projects]]
        path = "projects/new"

        [cli]
        verbose = true   # keep me after the projects
        suppress_warnings = [ "a",
            "b" ]
        "#);
    }

    #[test]
    fn inline_arrays_stay_inline() {
        let source =
            "directory_type = \"workspace\"\n[workspace]\nprojects = [\n    { path = \"a\" },\n]\n";
        insta::assert_snapshot!(add(source, "b"), @r#"
        directory_type = "workspace"
        [workspace]
        projects = [
            { path = "a" },
            { path = "b" },
        ]
        "#);
    }

    #[test]
    fn crlf_line_endings_survive() {
        let source = "directory_type = \"workspace\"\r\n\r\n[workspace]\r\n\r\n[[workspace.projects]]\r\npath = \"a\"\r\n";
        let out = add(source, "b");
        assert_eq!(
            out,
            format!("{source}\r\n[[workspace.projects]]\r\npath = \"b\"\r\n"),
            "the old lines are byte-identical and the new ones use CRLF too"
        );
    }

    #[test]
    fn one_line_inline_arrays_get_a_tidy_entry() {
        insta::assert_snapshot!(add("directory_type = \"workspace\"\nworkspace = { projects = [ { path = \"a\" } ] }\n", "b"), @r#"
        directory_type = "workspace"
        workspace = { projects = [ { path = "a" }, { path = "b" } ] }
        "#);
        insta::assert_snapshot!(add("directory_type = \"workspace\"\n[workspace]\nprojects = [{ path = \"a\" },] # c\n", "b"), @r#"
        directory_type = "workspace"
        [workspace]
        projects = [{ path = "a" }, { path = "b" },] # c
        "#);
        insta::assert_snapshot!(add("workspace.projects = [{path=\"a\"}, {path=\"b\"}]\n", "c"), @r#"workspace.projects = [{path="a"}, {path="b"}, { path = "c" }]"#);
    }

    #[test]
    fn missing_workspace_table_is_added() {
        insta::assert_snapshot!(add("directory_type = \"workspace\"\n", "p"), @r#"
        directory_type = "workspace"

        [workspace]

        [[workspace.projects]]
        path = "p"
        "#);
    }

    #[test]
    fn listed_path_is_refused() {
        let source = "[workspace]\n[[workspace.projects]]\npath = \"./projects/a/\"\n";
        let err =
            add_workspace_project(source, Path::new("/ws/dg.toml"), "projects/a").unwrap_err();
        insta::assert_snapshot!(err.to_string(), @"the workspace `/ws/dg.toml` already lists a project at `projects/a`");
    }

    #[test]
    fn broken_toml_is_reported_with_its_line() {
        let err = add_workspace_project("[workspace\n", Path::new("dg.toml"), "a").unwrap_err();
        insta::assert_snapshot!(err.to_string(), @"
        cannot add the project to `dg.toml`: TOML parse error at line 1, column 11
          |
        1 | [workspace
          |           ^
        unclosed table, expected `]`
        ");
        let err = add_workspace_project("[workspace]\nprojects = 3\n", Path::new("dg.toml"), "a")
            .unwrap_err();
        insta::assert_snapshot!(err.to_string(), @"cannot add the project to `dg.toml`: `workspace.projects` is not a list of tables");
    }
}
