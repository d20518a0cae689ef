//! Discovery, defaults and module resolution on real temporary folders.

use std::fs;
use std::path::{Path, PathBuf};

use dg_config::{
    discover, find_enclosing_workspace, ConfigError, Diagnostic, Needs, WarningId, DG_TOML,
};

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Self {
        Dir(tempfile::tempdir().unwrap())
    }
    fn root(&self) -> PathBuf {
        self.0.path().canonicalize().unwrap()
    }
    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.root().join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
        path
    }
    fn mkdir(&self, rel: &str) -> PathBuf {
        let path = self.root().join(rel);
        fs::create_dir_all(&path).unwrap();
        path
    }
}

fn project(module: &str, extra: &str) -> String {
    format!("[tool.dg]\ndirectory_type = \"project\"\n\n[tool.dg.project]\nroot_module = \"{module}\"\n{extra}")
}

fn workspace_toml(paths: &[&str]) -> String {
    let mut s = String::from("directory_type = \"workspace\"\n[workspace]\n");
    for p in paths {
        s.push_str(&format!("[[workspace.projects]]\npath = \"{p}\"\n"));
    }
    s
}

#[test]
fn deep_subfolder_of_a_workspace_project_finds_both() {
    let dir = Dir::new();
    dir.write(DG_TOML, &workspace_toml(&["projects/a"]));
    dir.write("projects/a/pyproject.toml", &project("a", ""));
    let deep = dir.mkdir("projects/a/src/a/defs/x/y/z");

    let ctx = discover(&deep).unwrap();
    assert_eq!(ctx.start, deep);
    let project = ctx.project.as_ref().expect("project");
    assert_eq!(project.root, dir.root().join("projects/a"));
    assert_eq!(project.file, dir.root().join("projects/a/pyproject.toml"));
    let ws = ctx.workspace.as_ref().expect("workspace");
    assert_eq!(ws.root, dir.root());
    assert_eq!(ws.projects.len(), 1);
    assert_eq!(ws.projects[0].path, Path::new("projects/a"));
    assert_eq!(ws.projects[0].span.line, 4);
    assert!(ctx.is_in_workspace());
    assert_eq!(ctx.root(), Some(project.root.as_path()));
    // Inside a project, commands apply to that project only.
    let projects = ctx.projects();
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0].as_ref().unwrap().root_module, "a");

    let enclosing = find_enclosing_workspace(&deep).unwrap().expect("workspace");
    assert_eq!(enclosing.root, dir.root());
}

#[test]
fn defaults_follow_dagster() {
    let dir = Dir::new();
    dir.write("my-proj/pyproject.toml", &project("my_proj", ""));
    let ctx = discover(&dir.root().join("my-proj")).unwrap();
    let p = ctx.project.unwrap();
    assert_eq!(p.defs_module, "my_proj.defs");
    assert_eq!(p.code_location_target_module, "my_proj.definitions");
    assert_eq!(p.code_location_name, "my-proj");
    assert_eq!(p.name(), "my-proj");
    assert!(p.registry_modules.is_empty());
    assert!(ctx.workspace.is_none());
    assert!(ctx.warnings.is_empty());
}

#[test]
fn defs_module_falls_back_to_definitions_package_only_when_unset() {
    let dir = Dir::new();
    dir.write("p/pyproject.toml", &project("p", ""));
    dir.mkdir("p/src/p/definitions");
    let p = discover(&dir.root().join("p")).unwrap().project.unwrap();
    assert_eq!(p.defs_module, "p.definitions");

    dir.write(
        "p/pyproject.toml",
        &project("p", "defs_module = \"p.defs\"\n"),
    );
    let p = discover(&dir.root().join("p")).unwrap().project.unwrap();
    assert_eq!(p.defs_module, "p.defs");
}

#[test]
fn module_paths_src_and_flat_layout_file_before_package() {
    let dir = Dir::new();
    dir.write("src_layout/pyproject.toml", &project("pkg", ""));
    dir.write("src_layout/src/pkg/definitions.py", "");
    dir.mkdir("src_layout/src/pkg/definitions");
    dir.mkdir("src_layout/src/pkg/defs");
    let p = discover(&dir.root().join("src_layout"))
        .unwrap()
        .project
        .unwrap();
    let base = dir.root().join("src_layout/src");
    assert_eq!(p.source_root(), base);
    assert_eq!(
        p.module_path("pkg.definitions"),
        Some(base.join("pkg/definitions.py"))
    );
    assert_eq!(p.module_path("pkg.defs"), Some(base.join("pkg/defs")));
    assert_eq!(p.module_path("pkg.missing"), None);
    assert_eq!(p.package_dir(), base.join("pkg"));
    assert_eq!(p.defs_path(), base.join("pkg/defs"));

    dir.write(
        "flat/dg.toml",
        "directory_type = \"project\"\n[project]\nroot_module = \"flat_pkg\"\n",
    );
    dir.mkdir("flat/flat_pkg/defs");
    let p = discover(&dir.root().join("flat")).unwrap().project.unwrap();
    assert_eq!(p.source_root(), dir.root().join("flat"));
    assert_eq!(
        p.module_path("flat_pkg.defs"),
        Some(dir.root().join("flat/flat_pkg/defs"))
    );
}

#[test]
fn dg_toml_wins_and_plain_pyproject_is_skipped() {
    let dir = Dir::new();
    dir.write(DG_TOML, &workspace_toml(&[]));
    dir.write("pyproject.toml", &project("ignored", ""));
    dir.write("sub/pyproject.toml", "[project]\nname = \"sub\"\n");
    let ctx = discover(&dir.root().join("sub")).unwrap();
    assert!(ctx.project.is_none());
    assert_eq!(ctx.workspace.unwrap().file, dir.root().join(DG_TOML));
}

#[test]
fn nothing_found_gives_an_empty_context_and_require_lists_candidates() {
    let dir = Dir::new();
    dir.write("child/pyproject.toml", &project("child", ""));
    dir.write("ws/dg.toml", &workspace_toml(&[]));
    let ctx = discover(&dir.root()).unwrap();
    assert!(ctx.project.is_none() && ctx.workspace.is_none());
    assert!(ctx.projects().is_empty());
    match ctx.require(Needs::Project).unwrap_err() {
        ConfigError::NoContext { candidates, .. } => {
            assert_eq!(candidates, vec![dir.root().join("child")]);
        }
        other => panic!("unexpected {other:?}"),
    }
    match ctx.require(Needs::ProjectOrWorkspace).unwrap_err() {
        err @ ConfigError::NoContext { .. } => {
            assert_eq!(err.exit_code(), 2);
            assert!(err.hint().unwrap().contains("child"));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn one_broken_project_does_not_hide_the_others() {
    let dir = Dir::new();
    dir.write(DG_TOML, &workspace_toml(&["a", "broken", "missing", "c"]));
    dir.write("a/pyproject.toml", &project("a", ""));
    dir.write("broken/pyproject.toml", &project("broken", "nope = 1\n"));
    dir.write("c/pyproject.toml", &project("c", ""));
    let ctx = discover(&dir.root()).unwrap();
    let results = ctx.projects();
    assert_eq!(results.len(), 4);
    assert_eq!(results[0].as_ref().unwrap().root_module, "a");
    assert!(matches!(results[1], Err(ConfigError::UnknownKey { .. })));
    assert!(matches!(
        results[2],
        Err(ConfigError::ProjectNotFound { .. })
    ));
    assert_eq!(results[3].as_ref().unwrap().root_module, "c");
}

#[test]
fn duplicate_code_location_names_are_caught_per_project() {
    let dir = Dir::new();
    dir.write(DG_TOML, &workspace_toml(&["x/etl", "y/etl", "z"]));
    dir.write("x/etl/pyproject.toml", &project("etl_x", ""));
    dir.write("y/etl/pyproject.toml", &project("etl_y", ""));
    dir.write(
        "z/pyproject.toml",
        &project("z", "code_location_name = \"etl\"\n"),
    );
    let results = discover(&dir.root()).unwrap().projects();
    assert!(results[0].is_ok());
    assert!(
        matches!(&results[1], Err(ConfigError::DuplicateCodeLocationName { name, .. }) if name == "etl")
    );
    assert!(matches!(
        &results[2],
        Err(ConfigError::DuplicateCodeLocationName { .. })
    ));
}

#[test]
fn project_cli_in_workspace_is_dropped_with_a_warning() {
    let dir = Dir::new();
    dir.write(
        DG_TOML,
        &format!("{}[cli]\nverbose = false\n", workspace_toml(&["a"])),
    );
    dir.write(
        "a/pyproject.toml",
        &project("a", "[tool.dg.cli]\nverbose = true\n"),
    );
    let ctx = discover(&dir.root().join("a")).unwrap();
    assert!(ctx.project.as_ref().unwrap().cli.is_empty());
    assert_eq!(ctx.workspace.as_ref().unwrap().cli.verbose, Some(false));
    assert_eq!(ctx.warnings.len(), 1);
    assert_eq!(ctx.warnings[0].id, WarningId::CliConfigInWorkspaceProject);

    // A standalone project keeps its `[cli]`.
    let solo = Dir::new();
    solo.write(
        "pyproject.toml",
        &project("s", "[tool.dg.cli]\nverbose = true\n"),
    );
    let ctx = discover(&solo.root()).unwrap();
    assert_eq!(ctx.project.unwrap().cli.verbose, Some(true));
    assert!(ctx.warnings.is_empty());
}

#[test]
fn deprecated_project_keys_warn() {
    let dir = Dir::new();
    dir.write(
        "pyproject.toml",
        &project(
            "a",
            "python_environment = \"active\"\nautoload_defs = true\n",
        ),
    );
    let ctx = discover(&dir.root()).unwrap();
    let lines: Vec<usize> = ctx
        .warnings
        .iter()
        .map(|w| w.location.as_ref().unwrap().line)
        .collect();
    assert_eq!(lines, vec![6, 7]);
    assert!(ctx
        .warnings
        .iter()
        .all(|w| w.id == WarningId::DeprecatedPythonEnvironment));
}

#[test]
fn errors_carry_file_line_column_and_dotted_key() {
    let dir = Dir::new();
    let file = dir.write("pyproject.toml", "[project]\nname = \"é\"\n\n[tool.dg]\ndirectory_type = \"project\"\n[tool.dg.project]\nroot_module = \"a\"\n  code_location_nme = \"x\"\n");
    match discover(&dir.root()).unwrap_err() {
        ConfigError::UnknownKey {
            location,
            key,
            suggestion,
            ..
        } => {
            assert_eq!(location.file, file);
            assert_eq!((location.line, location.column), (8, 3));
            assert_eq!(key, "tool.dg.project.code_location_nme");
            assert_eq!(
                suggestion.as_deref(),
                Some("tool.dg.project.code_location_name")
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn invalid_module_names_and_empty_location_names_are_rejected() {
    let dir = Dir::new();
    dir.write("pyproject.toml", &project("my-project", ""));
    let err = discover(&dir.root()).unwrap_err();
    assert!(
        matches!(&err, ConfigError::InvalidValue { key, .. } if key == "tool.dg.project.root_module"),
        "{err:?}"
    );

    dir.write(
        "pyproject.toml",
        &project("ok", "code_location_name = \" \"\n"),
    );
    let err = discover(&dir.root()).unwrap_err();
    assert!(
        matches!(&err, ConfigError::InvalidValue { key, .. } if key == "tool.dg.project.code_location_name"),
        "{err:?}"
    );
}

#[test]
fn scaffold_options_and_paths_outside_the_workspace() {
    let dir = Dir::new();
    dir.write("outside/pyproject.toml", &project("o", ""));
    dir.write(
        "ws/dg.toml",
        &format!(
            "{}[workspace.scaffold_project_options]\nuse_editable_dagster = true\n",
            workspace_toml(&["../outside", "/abs"])
        ),
    );
    let ws = find_enclosing_workspace(&dir.root().join("ws"))
        .unwrap()
        .unwrap();
    assert!(ws.scaffold_project_options.use_editable_dagster);
    // As in Dagster, a project may live outside the workspace folder (`../outside`), or be named
    // by an absolute path; this one does not exist.
    let results = ws.load_projects();
    assert_eq!(
        results[0].as_ref().unwrap().root,
        dir.root().join("outside")
    );
    assert!(
        matches!(&results[1], Err(ConfigError::ProjectNotFound { root, .. }) if root.as_path() == Path::new("/abs")),
        "{:?}",
        results[1]
    );
}

#[test]
fn a_folder_listed_twice_fails_only_its_second_entry() {
    let dir = Dir::new();
    dir.write("projects/a/pyproject.toml", &project("a", ""));
    dir.write("projects/b/pyproject.toml", &project("b", ""));
    dir.write(
        DG_TOML,
        &workspace_toml(&["projects/a", "./projects/a/", "projects/b"]),
    );
    let results = discover(&dir.root()).unwrap().projects();
    assert!(results[0].is_ok());
    match &results[1] {
        Err(ConfigError::DuplicateProject {
            location, first, ..
        }) => {
            assert_eq!((first.line, location.line), (4, 6));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        results[2].is_ok(),
        "projects after the repeated entry still load"
    );
}

#[test]
fn cli_telemetry_as_a_table_header_dotted_key_or_inline_table() {
    for cli in [
        "[cli.telemetry]\nenabled = false\n",
        "[cli]\ntelemetry.enabled = false\n",
        "[cli]\ntelemetry = { enabled = false }\n",
    ] {
        let dir = Dir::new();
        dir.write(DG_TOML, &format!("{}{cli}", workspace_toml(&[])));
        let ws = find_enclosing_workspace(&dir.root())
            .unwrap_or_else(|e| panic!("{cli:?} was refused: {e}"))
            .expect("workspace found");
        assert_eq!(ws.cli.telemetry_enabled, Some(false), "{cli:?}");
    }
}

#[test]
fn cli_telemetry_of_the_wrong_type_is_still_an_error() {
    let dir = Dir::new();
    dir.write(
        DG_TOML,
        &format!("{}[cli.telemetry]\nenabled = 3\n", workspace_toml(&[])),
    );
    let err = find_enclosing_workspace(&dir.root()).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let text = err.to_string();
    assert!(text.contains("dg.toml:"), "{text}");
    assert!(!text.contains("borrowed"), "{text}");
}

#[test]
fn tables_made_implicitly_by_dotted_headers_are_accepted() {
    let dir = Dir::new();
    dir.write("projects/a/pyproject.toml", &project("a", ""));
    dir.write(
        DG_TOML,
        "directory_type = \"workspace\"\n\n[[workspace.projects]]\npath = \"projects/a\"\n\n\
         [workspace.scaffold_project_options]\nuse_editable_dagster = false\n",
    );
    let ws = find_enclosing_workspace(&dir.root())
        .unwrap()
        .expect("workspace found");
    assert_eq!(ws.projects.len(), 1);

    let dir = Dir::new();
    dir.write(
        "pyproject.toml",
        "[tool.dg.project]\nroot_module = \"a\"\n\n[tool.dg]\ndirectory_type = \"project\"\n",
    );
    let ctx = discover(&dir.root()).unwrap();
    assert_eq!(ctx.project.expect("project found").root_module, "a");
}

#[test]
fn a_found_file_is_validated_from_the_text_read_when_it_was_found() {
    // Each config file is read once: validating a found file must not read it again (the bench saw
    // every project's `pyproject.toml` read twice by `dg list projects`).
    let dir = Dir::new();
    let file = dir.write("pyproject.toml", &project("first", ""));
    let found = dg_config::locate_in_folder(&dir.root()).unwrap().unwrap();
    fs::write(&file, "this is not toml [").unwrap();
    let loaded = dg_config::load_found_file(&found).unwrap();
    match loaded.kind {
        dg_config::ConfigFileKind::Project(p) => assert_eq!(p.root_module, "first"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn tool_dg_that_is_not_a_table_is_an_error_not_a_plain_pyproject() {
    let dir = Dir::new();
    let file = dir.write(
        "pyproject.toml",
        "[project]\nname = \"x\"\n\n[tool]\ndg = 5\n",
    );
    match discover(&dir.root()).unwrap_err() {
        ConfigError::WrongType { location, key, .. } => {
            assert_eq!(location.file, file);
            assert_eq!((location.line, location.column), (5, 6));
            assert_eq!(key, "tool.dg");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn a_file_that_is_not_utf8_is_reported_at_its_first_bad_byte() {
    let dir = Dir::new();
    dir.write(DG_TOML, &workspace_toml(&["projects/a", "projects/b"]));
    dir.write("projects/a/pyproject.toml", &project("a", ""));
    let bad = dir.root().join("projects/b/pyproject.toml");
    fs::create_dir_all(bad.parent().unwrap()).unwrap();
    fs::write(
        &bad,
        b"[tool.dg]\ndirectory_type = \"project\"\n[tool.dg.project]\nroot_module = \"caf\xe9\"\n",
    )
    .unwrap();
    let results = discover(&dir.root()).unwrap().projects();
    assert!(results[0].is_ok(), "the healthy project still loads");
    match &results[1] {
        Err(err @ ConfigError::NotUtf8 { location }) => {
            assert_eq!(location.file, bad);
            assert_eq!((location.line, location.column), (4, 19));
            assert!(err.hint().unwrap().contains("UTF-8"));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn dagsters_deployment_folder_is_looked_past() {
    // `create-dagster workspace` (Dagster's) writes this file; its own `dg` fails inside it.
    let dir = Dir::new();
    dir.write(DG_TOML, &workspace_toml(&["projects/a"]));
    dir.write("projects/a/pyproject.toml", &project("a", ""));
    let local = dir.write(
        "deployments/local/pyproject.toml",
        "[project]\nname = \"ws_local\"\n\n[tool.dg]\ndirectory_type = \"deployment\"\n",
    );
    let ctx = discover(local.parent().unwrap()).unwrap();
    assert!(ctx.project.is_none());
    assert_eq!(ctx.workspace.unwrap().root, dir.root());
}
