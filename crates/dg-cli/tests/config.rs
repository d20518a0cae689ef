//! Command-line tests of config discovery and validation: `dg list projects`, `dg check toml`, the
//! global settings, and every config error with its message (file, line, column, dotted key, hint).

use dg_test::{dg_snapshot, TestContext};

/// A project's `pyproject.toml` with `[tool.dg]`, plus whatever extra lines a test needs.
fn project_toml(root_module: &str, extra: &str) -> String {
    format!(
        "[project]\nname = \"{root_module}\"\n\n[tool.dg]\ndirectory_type = \"project\"\n\n[tool.dg.project]\nroot_module = \"{root_module}\"\n{extra}"
    )
}

/// A workspace at the test root listing `paths`, each a project whose root module is its folder name.
fn workspace(ctx: &TestContext, paths: &[&str]) {
    let mut dg_toml = String::from("directory_type = \"workspace\"\n\n[workspace]\n");
    for path in paths {
        dg_toml.push_str(&format!("\n[[workspace.projects]]\npath = \"{path}\"\n"));
        let module = path.rsplit('/').next().unwrap().replace('-', "_");
        ctx.write(format!("{path}/pyproject.toml"), project_toml(&module, ""));
    }
    ctx.write("dg.toml", dg_toml);
}

#[test]
fn list_projects_in_workspace_keeps_file_order() {
    let ctx = TestContext::new();
    workspace(&ctx, &["projects/zeta", "projects/alpha", "other/mid-one"]);
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]), @"
    success: true
    exit_code: 0
    ----- stdout -----
    projects/zeta
    projects/alpha
    other/mid-one

    ----- stderr -----
    ");
}

#[test]
fn list_projects_in_standalone_project_prints_dot() {
    let ctx = TestContext::new();
    ctx.write("pyproject.toml", project_toml("solo", ""));
    ctx.mkdir("src/solo/defs");
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]).current_dir(ctx.path("src/solo/defs")), @"
    success: true
    exit_code: 0
    ----- stdout -----
    .

    ----- stderr -----
    ");
}

#[test]
fn list_projects_json() {
    let ctx = TestContext::new();
    workspace(&ctx, &["projects/a"]);
    ctx.write(
        "projects/b/dg.toml",
        "directory_type = \"project\"\n\n[project]\nroot_module = \"bee\"\ndefs_module = \"bee.my_defs\"\ncode_location_name = \"the-b\"\n",
    );
    ctx.write(
        "dg.toml",
        "directory_type = \"workspace\"\n[workspace]\n[[workspace.projects]]\npath = \"projects/a\"\n[[workspace.projects]]\npath = \"projects/b\"\n",
    );
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects", "--json"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    [
      {
        "path": "projects/a",
        "root": "[TEMP]/work/projects/a",
        "root_module": "a",
        "defs_module": "a.defs",
        "code_location_target_module": "a.definitions",
        "code_location_name": "a"
      },
      {
        "path": "projects/b",
        "root": "[TEMP]/work/projects/b",
        "root_module": "bee",
        "defs_module": "bee.my_defs",
        "code_location_target_module": "bee.definitions",
        "code_location_name": "the-b"
      }
    ]

    ----- stderr -----
    "#);
}

#[test]
fn list_projects_from_deep_inside_a_workspace_project() {
    let ctx = TestContext::new();
    workspace(&ctx, &["projects/a", "projects/b"]);
    // The project's own `[tool.dg.cli]` does not apply inside a workspace (Dagster warns the same).
    ctx.write(
        "projects/a/pyproject.toml",
        project_toml("a", "\n[tool.dg.cli]\nverbose = true\n"),
    );
    let deep = ctx.mkdir("projects/a/src/a/defs/nested/deeper");
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]).current_dir(&deep), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    projects/a
    projects/b

    ----- stderr -----
    warning: The `tool.dg.cli` table in `[TEMP]/work/projects/a/pyproject.toml` is ignored because the project is inside the workspace `[TEMP]/work`; move these settings to the workspace file. (suppress with `suppress_warnings = ["cli_config_in_workspace_project"]` in `[cli]`)
    "#);
}

#[test]
fn target_path_selects_the_context() {
    let ctx = TestContext::new();
    workspace(&ctx, &["projects/a"]);
    ctx.mkdir("elsewhere");
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects", "--target-path", "../projects/a"]).current_dir(ctx.path("elsewhere")), @"
    success: true
    exit_code: 0
    ----- stdout -----
    projects/a

    ----- stderr -----
    ");
}

#[test]
fn target_path_must_exist() {
    let ctx = TestContext::new();
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects", "--target-path", "nope"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: `--target-path` `nope` does not exist
    hint: Pass a folder that exists (a project, a workspace, or a folder below one).
    ");
}

#[test]
fn outside_any_project_lists_nearby_candidates() {
    let ctx = TestContext::new();
    ctx.write("one/pyproject.toml", project_toml("one", ""));
    ctx.write("two/dg.toml", "directory_type = \"workspace\"\n");
    ctx.write("plain/pyproject.toml", "[project]\nname = \"plain\"\n");
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: This command must be run inside a Dagster project or workspace directory (looked in `[TEMP]/work` and its parents)
    hint: You may have wanted to run this command in one of: `[TEMP]/work/one`, `[TEMP]/work/two` (or pass `--target-path`).
    ");
}

#[test]
fn outside_any_project_without_candidates() {
    let ctx = TestContext::new();
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]), @r#"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: This command must be run inside a Dagster project or workspace directory (looked in `[TEMP]/work` and its parents)
    hint: Run the command in a folder with a `dg.toml` or a `pyproject.toml` with `[tool.dg]` (`directory_type = "project"` or `"workspace"`), or pass `--target-path`.
    "#);
}

#[test]
fn dg_toml_wins_over_pyproject_in_the_same_folder() {
    let ctx = TestContext::new();
    ctx.write(
        "pyproject.toml",
        project_toml("ignored", "this is not = valid dg config\n"),
    );
    ctx.write("dg.toml", "directory_type = \"workspace\"\n");
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]), @"
    success: true
    exit_code: 0
    ----- stdout -----

    ----- stderr -----
    ");
}

#[test]
fn pyproject_without_tool_dg_is_not_a_root() {
    let ctx = TestContext::new();
    workspace(&ctx, &["projects/a"]);
    // A Python package inside the project with its own plain pyproject.toml.
    ctx.write(
        "projects/a/vendored/pyproject.toml",
        "[project]\nname = \"vendored\"\n",
    );
    dg_snapshot!(ctx, ctx.dg().args(["check", "toml"]).current_dir(ctx.path("projects/a/vendored")), @"
    success: true
    exit_code: 0
    ----- stdout -----
    Checking TOML configuration files...

    Found project configuration file: [TEMP]/work/projects/a/pyproject.toml
    Project configuration file is valid.


    Found workspace configuration file: [TEMP]/work/dg.toml
    Workspace configuration file is valid.

    All TOML configuration files are valid.

    ----- stderr -----
    ");
}

#[test]
fn check_toml_at_workspace_root_checks_listed_projects() {
    let ctx = TestContext::new();
    workspace(&ctx, &["projects/a", "projects/b"]);
    dg_snapshot!(ctx, ctx.dg().args(["check", "toml"]), @"
    success: true
    exit_code: 0
    ----- stdout -----
    Checking TOML configuration files...

    Found workspace configuration file: [TEMP]/work/dg.toml
    Workspace configuration file is valid.


    Found project configuration file: [TEMP]/work/projects/a/pyproject.toml
    Project configuration file is valid.


    Found project configuration file: [TEMP]/work/projects/b/pyproject.toml
    Project configuration file is valid.

    All TOML configuration files are valid.

    ----- stderr -----
    ");
}

#[test]
fn check_toml_in_workspace_project() {
    let ctx = TestContext::new();
    workspace(&ctx, &["projects/a"]);
    dg_snapshot!(ctx, ctx.dg().args(["check", "toml"]).current_dir(ctx.path("projects/a")), @"
    success: true
    exit_code: 0
    ----- stdout -----
    Checking TOML configuration files...

    Found project configuration file: [TEMP]/work/projects/a/pyproject.toml
    Project configuration file is valid.


    Found workspace configuration file: [TEMP]/work/dg.toml
    Workspace configuration file is valid.

    All TOML configuration files are valid.

    ----- stderr -----
    ");
}

#[test]
fn check_toml_reports_each_broken_file() {
    let ctx = TestContext::new();
    workspace(&ctx, &["projects/a"]);
    ctx.write(
        "projects/a/pyproject.toml",
        project_toml("a", "defs_modul = \"a.defs\"\n"),
    );
    ctx.write(
        "dg.toml",
        "directory_type = \"workspace\"\n[workspace]\nprojects = 3\n",
    );
    dg_snapshot!(ctx, ctx.dg().args(["check", "toml"]).current_dir(ctx.path("projects/a")), @"
    success: false
    exit_code: 2
    ----- stdout -----
    Checking TOML configuration files...

    Found project configuration file: [TEMP]/work/projects/a/pyproject.toml
    Project configuration file errors:

    Unknown key `tool.dg.project.defs_modul` at `[TEMP]/work/projects/a/pyproject.toml:9:1`
    hint: Did you mean `tool.dg.project.defs_module`?


    Found workspace configuration file: [TEMP]/work/dg.toml
    Workspace configuration file errors:

    Wrong type for `workspace.projects` at `[TEMP]/work/dg.toml:3:12`: expected an array, found integer `3`
    hint: Change the value of `workspace.projects` to an array.


    ----- stderr -----
    error: One or more TOML configuration files contain errors.
    ");
}

#[test]
fn check_toml_reports_invalid_toml_and_unknown_directory_type() {
    let ctx = TestContext::new();
    ctx.write("broken/dg.toml", "directory_type = \"project\"\n[project\n");
    dg_snapshot!(ctx, ctx.dg().args(["check", "toml"]).current_dir(ctx.path("broken")), @"
    success: false
    exit_code: 2
    ----- stdout -----
    Checking TOML configuration files...

    Found configuration file: [TEMP]/work/broken/dg.toml
    Configuration file errors:

    Invalid TOML at `[TEMP]/work/broken/dg.toml:2:9`: unclosed table, expected `]`
    hint: Fix the TOML syntax in `[TEMP]/work/broken/dg.toml` at line 2.


    ----- stderr -----
    error: One or more TOML configuration files contain errors.
    ");
    ctx.write("odd/dg.toml", "directory_type = \"component\"\n");
    dg_snapshot!(ctx, ctx.dg().args(["check", "toml"]).current_dir(ctx.path("odd")), @r#"
    success: false
    exit_code: 2
    ----- stdout -----
    Checking TOML configuration files...

    Found configuration file: [TEMP]/work/odd/dg.toml
    Configuration file errors:

    Invalid value for `directory_type` at `[TEMP]/work/odd/dg.toml:1:18`: expected `"project"` or `"workspace"`, found `"component"`
    hint: Set `directory_type` to `"project"` or `"workspace"`.


    ----- stderr -----
    error: One or more TOML configuration files contain errors.
    "#);
}

#[test]
fn check_toml_outside_any_project() {
    let ctx = TestContext::new();
    dg_snapshot!(ctx, ctx.dg().args(["check", "toml"]), @"
    success: true
    exit_code: 0
    ----- stdout -----
    Checking TOML configuration files...
    All TOML configuration files are valid.

    ----- stderr -----
    ");
}

// ---- errors -------------------------------------------------------------------------------------

#[test]
fn error_invalid_toml() {
    let ctx = TestContext::new();
    ctx.write(
        "pyproject.toml",
        "[tool.dg]\ndirectory_type = \"project\"\n[tool.dg.project\nroot_module = \"x\"\n",
    );
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: Invalid TOML at `[TEMP]/work/pyproject.toml:3:17`: unclosed table, expected `]`
    hint: Fix the TOML syntax in `[TEMP]/work/pyproject.toml` at line 3.
    ");
}

#[test]
fn error_unknown_key_in_pyproject_suggests_closest() {
    let ctx = TestContext::new();
    ctx.write(
        "pyproject.toml",
        project_toml("a", "registry_module = [\"a.components.*\"]\n"),
    );
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: Unknown key `tool.dg.project.registry_module` at `[TEMP]/work/pyproject.toml:9:1`
    hint: Did you mean `tool.dg.project.registry_modules`?
    ");
}

#[test]
fn error_unknown_key_in_dg_toml() {
    let ctx = TestContext::new();
    ctx.write(
        "dg.toml",
        "directory_type = \"workspace\"\n\n[workspace]\nproject = []\n",
    );
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: Unknown key `workspace.project` at `[TEMP]/work/dg.toml:4:1`
    hint: Did you mean `workspace.projects`?
    ");
}

#[test]
fn error_unknown_key_without_close_match() {
    let ctx = TestContext::new();
    ctx.write(
        "dg.toml",
        "directory_type = \"workspace\"\n\n[cli]\nxyz = 1\n",
    );
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: Unknown key `cli.xyz` at `[TEMP]/work/dg.toml:4:1`
    hint: Remove the key; valid keys here are `cli.verbose`, `cli.use_component_modules`, `cli.suppress_warnings`, `cli.telemetry`.
    ");
}

#[test]
fn error_wrong_type() {
    let ctx = TestContext::new();
    ctx.write(
        "pyproject.toml",
        "[tool.dg]\ndirectory_type = \"project\"\n\n[tool.dg.project]\nroot_module = 1\n",
    );
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: Wrong type for `tool.dg.project.root_module` at `[TEMP]/work/pyproject.toml:5:15`: expected a string, found integer `1`
    hint: Change the value of `tool.dg.project.root_module` to a string.
    ");
}

#[test]
fn error_wrong_type_of_table() {
    let ctx = TestContext::new();
    ctx.write(
        "dg.toml",
        "directory_type = \"project\"\nproject = \"my_project\"\n",
    );
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]), @r#"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: Wrong type for `project` at `[TEMP]/work/dg.toml:2:11`: expected a table, found string "my_project"
    hint: Change the value of `project` to a table.
    "#);
}

#[test]
fn error_missing_required_key() {
    let ctx = TestContext::new();
    ctx.write(
        "my-project/pyproject.toml",
        "[tool.dg]\ndirectory_type = \"project\"\n\n[tool.dg.project]\ndefs_module = \"x.defs\"\n",
    );
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]).current_dir(ctx.path("my-project")), @r#"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: Missing required key `tool.dg.project.root_module` at `[TEMP]/work/my-project/pyproject.toml:4:1`
    hint: Add `root_module = "my_project"` (the key `tool.dg.project.root_module`).
    "#);
}

#[test]
fn error_missing_directory_type() {
    let ctx = TestContext::new();
    ctx.write("dg.toml", "[workspace]\n");
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]), @r#"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: Missing required key `directory_type` at `[TEMP]/work/dg.toml:1:1`
    hint: Add `directory_type = "workspace"` (the key `directory_type`).
    "#);
}

#[test]
fn error_invalid_directory_type() {
    let ctx = TestContext::new();
    ctx.write("dg.toml", "directory_type = \"workspaces\"\n");
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]), @r#"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: Invalid value for `directory_type` at `[TEMP]/work/dg.toml:1:18`: expected `"project"` or `"workspace"`, found `"workspaces"`
    hint: Set `directory_type` to `"project"` or `"workspace"`.
    "#);
}

#[test]
fn error_invalid_registry_module_pattern() {
    let ctx = TestContext::new();
    ctx.write(
        "pyproject.toml",
        project_toml("a", "registry_modules = [\"a.components.*\", \"a-b.*\"]\n"),
    );
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: Invalid value for `tool.dg.project.registry_modules[1]` at `[TEMP]/work/pyproject.toml:9:39`: `a-b.*` is not a module pattern
    hint: Use `.`-separated segments that are Python identifiers or `*`, like `my_project.components.*`.
    ");
}

#[test]
fn error_workspace_project_does_not_exist() {
    let ctx = TestContext::new();
    workspace(&ctx, &["projects/a"]);
    ctx.write(
        "dg.toml",
        "directory_type = \"workspace\"\n[workspace]\n[[workspace.projects]]\npath = \"projects/a\"\n[[workspace.projects]]\npath = \"projects/missing\"\n",
    );
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]), @"
    success: false
    exit_code: 2
    ----- stdout -----
    projects/a

    ----- stderr -----
    error: Project `projects/missing` listed at `[TEMP]/work/dg.toml:6:8` does not exist
    hint: Create the project at `[TEMP]/work/projects/missing` (`create-dagster project <path>`), or remove its entry from `[[workspace.projects]]`.
    ");
}

#[test]
fn error_workspace_path_is_not_a_project() {
    let ctx = TestContext::new();
    ctx.write(
        "projects/plain/pyproject.toml",
        "[project]\nname = \"plain\"\n",
    );
    ctx.write(
        "projects/nested-ws/dg.toml",
        "directory_type = \"workspace\"\n",
    );
    ctx.write(
        "dg.toml",
        "directory_type = \"workspace\"\n[workspace]\n[[workspace.projects]]\npath = \"projects/plain\"\n[[workspace.projects]]\npath = \"projects/nested-ws\"\n",
    );
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]), @r#"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: Project `projects/plain` listed at `[TEMP]/work/dg.toml:4:8` is not a dg project: it has no `dg.toml` and no `pyproject.toml` with `[tool.dg]`
    hint: Point `path` at a folder whose `pyproject.toml` has `[tool.dg]` with `directory_type = "project"` (or whose `dg.toml` has `directory_type = "project"`), or remove the entry.
    error: Project `projects/nested-ws` listed at `[TEMP]/work/dg.toml:6:8` is not a dg project: `[TEMP]/work/projects/nested-ws/dg.toml` says `directory_type = "workspace"`
    hint: Point `path` at a folder whose `pyproject.toml` has `[tool.dg]` with `directory_type = "project"` (or whose `dg.toml` has `directory_type = "project"`), or remove the entry.
    "#);
}

#[test]
fn error_same_project_listed_twice() {
    let ctx = TestContext::new();
    workspace(&ctx, &["projects/a"]);
    ctx.write(
        "dg.toml",
        "directory_type = \"workspace\"\n[workspace]\n[[workspace.projects]]\npath = \"projects/a\"\n[[workspace.projects]]\npath = \"./projects/a/\"\n",
    );
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]), @"
    success: false
    exit_code: 2
    ----- stdout -----
    projects/a

    ----- stderr -----
    error: Project `./projects/a/` is listed twice, at `[TEMP]/work/dg.toml:4:8` and at `[TEMP]/work/dg.toml:6:8`
    hint: Remove one of the two `[[workspace.projects]]` entries.
    ");
}

#[test]
fn error_duplicate_code_location_name() {
    let ctx = TestContext::new();
    workspace(&ctx, &["team1/etl", "team2/etl"]);
    ctx.write("team2/etl/pyproject.toml", project_toml("etl2", ""));
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]), @"
    success: false
    exit_code: 2
    ----- stdout -----
    team1/etl

    ----- stderr -----
    error: Projects `team1/etl` and `team2/etl` have the same code location name `etl`
    hint: Set a distinct `tool.dg.project.code_location_name` in `[TEMP]/work/team2/etl/pyproject.toml`.
    ");
    dg_snapshot!(ctx, ctx.dg().args(["check", "toml"]), @"
    success: false
    exit_code: 2
    ----- stdout -----
    Checking TOML configuration files...

    Found workspace configuration file: [TEMP]/work/dg.toml
    Workspace configuration file errors:

    Projects `team1/etl` and `team2/etl` have the same code location name `etl`
    hint: Set a distinct `tool.dg.project.code_location_name` in `[TEMP]/work/team2/etl/pyproject.toml`.


    Found project configuration file: [TEMP]/work/team1/etl/pyproject.toml
    Project configuration file is valid.


    ----- stderr -----
    error: One or more TOML configuration files contain errors.
    ");
}

#[test]
fn workspace_projects_outside_the_root_and_repeated_entries() {
    // Dagster joins `path` to the workspace root, so `../shared` (a monorepo whose workspace file
    // lives in a subfolder) works there; it works here too. Before, it was refused. A folder
    // listed twice fails only its second entry; the projects after it still load.
    let ctx = TestContext::new();
    ctx.write("shared/pyproject.toml", project_toml("shared", ""));
    ctx.write("ws/projects/a/pyproject.toml", project_toml("a", ""));
    ctx.write("ws/projects/b/pyproject.toml", project_toml("b", ""));
    ctx.write(
        "ws/dg.toml",
        "directory_type = \"workspace\"\n[workspace]\n[[workspace.projects]]\npath = \"projects/a/\"\n[[workspace.projects]]\npath = \"../shared\"\n[[workspace.projects]]\npath = \"./projects/a\"\n[[workspace.projects]]\npath = \"projects/b\"\n",
    );
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]).current_dir(ctx.path("ws")), @"
    success: false
    exit_code: 2
    ----- stdout -----
    projects/a
    ../shared
    projects/b

    ----- stderr -----
    error: Project `./projects/a` is listed twice, at `[TEMP]/work/ws/dg.toml:4:8` and at `[TEMP]/work/ws/dg.toml:8:8`
    hint: Remove one of the two `[[workspace.projects]]` entries.
    ");
}

#[test]
fn error_missing_project_path_key() {
    let ctx = TestContext::new();
    ctx.write(
        "dg.toml",
        "directory_type = \"workspace\"\n[workspace]\n[[workspace.projects]]\n",
    );
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]), @r#"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: Missing required key `workspace.projects[0].path` at `[TEMP]/work/dg.toml:3:1`
    hint: Add `path = "projects/my-project"` (the key `workspace.projects[0].path`).
    "#);
}

#[test]
fn error_project_table_in_workspace_file() {
    let ctx = TestContext::new();
    ctx.write(
        "dg.toml",
        "directory_type = \"workspace\"\n[project]\nroot_module = \"x\"\n",
    );
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: Unknown key `project` at `[TEMP]/work/dg.toml:2:1`
    hint: Remove the key; valid keys here are `directory_type`, `workspace`, `cli`.
    ");
}

// ---- settings -----------------------------------------------------------------------------------

#[test]
fn deprecated_keys_warn_and_can_be_suppressed() {
    let ctx = TestContext::new();
    ctx.write(
        "pyproject.toml",
        project_toml("a", "python_environment = \"persistent_uv\"\n"),
    );
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    .

    ----- stderr -----
    warning: `tool.dg.project.python_environment` in `[TEMP]/work/pyproject.toml` is deprecated and has no effect; remove it. (suppress with `suppress_warnings = ["deprecated_python_environment"]` in `[cli]`)
    "#);
    ctx.write(
        "pyproject.toml",
        project_toml("a", "python_environment = \"persistent_uv\"\n\n[tool.dg.cli]\nsuppress_warnings = [\"deprecated_python_environment\"]\n"),
    );
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]), @"
    success: true
    exit_code: 0
    ----- stdout -----
    .

    ----- stderr -----
    ");
}

#[test]
fn workspace_cli_suppresses_project_cli_warning() {
    let ctx = TestContext::new();
    workspace(&ctx, &["projects/a"]);
    ctx.write(
        "projects/a/pyproject.toml",
        project_toml("a", "\n[tool.dg.cli]\nverbose = true\n"),
    );
    ctx.write(
        "dg.toml",
        "directory_type = \"workspace\"\n[workspace]\n[[workspace.projects]]\npath = \"projects/a\"\n[cli]\nsuppress_warnings = [\"cli_config_in_workspace_project\"]\n",
    );
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]).current_dir(ctx.path("projects/a")), @"
    success: true
    exit_code: 0
    ----- stdout -----
    projects/a

    ----- stderr -----
    ");
}

#[test]
fn user_file_settings_apply_and_are_validated() {
    let ctx = TestContext::new();
    ctx.write(
        "pyproject.toml",
        project_toml("a", "python_environment = \"active\"\n"),
    );
    // The user file suppresses the warning; its `[cli.plus]` and other tables belong to other tools.
    ctx.write_user_config("[cli]\nsuppress_warnings = [\"deprecated_python_environment\"]\n\n[cli.plus]\norganization = \"x\"\n\n[other]\nkey = 1\n");
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]), @"
    success: true
    exit_code: 0
    ----- stdout -----
    .

    ----- stderr -----
    ");
    ctx.write_user_config("[cli]\nsuppress_warning = [\"deprecated_python_environment\"]\n");
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: Unknown key `cli.suppress_warning` at `[TEMP]/home/.config/dg.toml:2:1`
    hint: Did you mean `cli.suppress_warnings`?
    ");
    ctx.write_user_config("[cli]\nsuppress_warnings = [\"no_such_warning\"]\n");
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: Invalid value for `cli.suppress_warnings[0]` at `[TEMP]/home/.config/dg.toml:2:22`: unknown warning `no_such_warning`
    hint: Use one of `cli_config_in_workspace_project`, `deprecated_user_config_location`, `deprecated_python_environment`, `deprecated_dagster_dg_library_entry_point`, `missing_dg_plugin_module_in_manifest`, `project_and_activated_venv_mismatch`, `create_dagster_outdated`.
    ");
}

#[test]
fn dg_cli_config_env_names_the_user_file() {
    let ctx = TestContext::new();
    ctx.write(
        "pyproject.toml",
        project_toml("a", "python_environment = \"active\"\n"),
    );
    let file = ctx.write(
        "custom/settings.toml",
        "[cli]\nsuppress_warnings = [\"deprecated_python_environment\"]\n",
    );
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]).env("DG_CLI_CONFIG", &file), @"
    success: true
    exit_code: 0
    ----- stdout -----
    .

    ----- stderr -----
    ");
}

#[test]
fn list_projects_help() {
    let ctx = TestContext::new();
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects", "-h"]), @"
    success: true
    exit_code: 0
    ----- stdout -----
    List projects in the current workspace, or `.` in a standalone project

    Usage: dg list projects [OPTIONS]

    Options:
          --json                Print the projects as JSON
          --target-path <PATH>  Directory to load the context from (a folder with a `dg.toml` or
                                `pyproject.toml`, or below one)
          --verbose             Enable verbose output for debugging
      -h, --help                Print help

    ----- stderr -----
    ");
}

#[test]
fn error_tool_dg_not_a_table() {
    // Before: a `tool.dg` that is not a table made the file count as a plain `pyproject.toml`,
    // and the command said it was not inside a project at all.
    let ctx = TestContext::new();
    ctx.write(
        "pyproject.toml",
        "[project]\nname = \"x\"\n\n[tool]\ndg = 5\n",
    );
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: Wrong type for `tool.dg` at `[TEMP]/work/pyproject.toml:5:6`: expected a table, found integer `5`
    hint: Change the value of `tool.dg` to a table.
    ");
}

#[test]
fn non_utf8_project_file_is_located_and_the_others_still_list() {
    let ctx = TestContext::new();
    workspace(&ctx, &["projects/good", "projects/latin1"]);
    ctx.write(
        "projects/latin1/pyproject.toml",
        b"[tool.dg]\ndirectory_type = \"project\"\n# caf\xe9\n[tool.dg.project]\nroot_module = \"latin1\"\n",
    );
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]), @"
    success: false
    exit_code: 2
    ----- stdout -----
    projects/good

    ----- stderr -----
    error: Invalid UTF-8 at `[TEMP]/work/projects/latin1/pyproject.toml:3:6`: TOML files must be UTF-8 text
    hint: Save `[TEMP]/work/projects/latin1/pyproject.toml` as UTF-8 (for example with `iconv -f latin1 -t utf-8`), or retype the characters on line 3.
    ");
    dg_snapshot!(ctx, ctx.dg().args(["check", "toml"]), @"
    success: false
    exit_code: 2
    ----- stdout -----
    Checking TOML configuration files...

    Found workspace configuration file: [TEMP]/work/dg.toml
    Workspace configuration file is valid.


    Found project configuration file: [TEMP]/work/projects/good/pyproject.toml
    Project configuration file is valid.


    Found project configuration file: [TEMP]/work/projects/latin1/pyproject.toml
    Project configuration file errors:

    Invalid UTF-8 at `[TEMP]/work/projects/latin1/pyproject.toml:3:6`: TOML files must be UTF-8 text
    hint: Save `[TEMP]/work/projects/latin1/pyproject.toml` as UTF-8 (for example with `iconv -f latin1 -t utf-8`), or retype the characters on line 3.


    ----- stderr -----
    error: One or more TOML configuration files contain errors.
    ");
}

#[test]
fn project_command_at_a_workspace_root_names_its_projects() {
    // Before: "looked in ... and its parents" with no suggestion, since the projects are two
    // levels down, out of reach of the parents-and-children search.
    let ctx = TestContext::new();
    workspace(&ctx, &["projects/alpha", "projects/beta", "projects/gone"]);
    std::fs::remove_dir_all(ctx.path("projects/gone")).unwrap();
    dg_snapshot!(ctx, ctx.dg().args(["scaffold", "defs", "dagster.asset", "orders.py"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: This command must be run inside a Dagster project directory (looked in `[TEMP]/work` and its parents)
    hint: You may have wanted to run this command in one of: `[TEMP]/work/projects/alpha`, `[TEMP]/work/projects/beta` (or pass `--target-path`).
    ");
}
