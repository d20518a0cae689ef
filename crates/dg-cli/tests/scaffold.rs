//! `create-dagster project|workspace` and `dg scaffold defs`, run as the real binaries in temporary
//! folders: every generated file and every refusal is compared with a reviewed snapshot, and a
//! refused command is shown to leave the disk as it was.
//!
//! The tests that need Python with real `dagster` (installed by `uv sync` from the shared uv cache)
//! live in `scaffold_python.rs`.

use std::path::Path;

use dg_config::env;
use dg_test::{dg_snapshot, TestContext};

mod scaffold_common;
use scaffold_common::tree;

#[test]
fn project_files() {
    let ctx = TestContext::new();
    dg_snapshot!(ctx, ctx.create_dagster().args(["project", "my-project", "--no-uv-sync"]), @"
    success: true
    exit_code: 0
    ----- stdout -----

    ----- stderr -----
    Created the Dagster project `my-project` at `my-project` (Python package `my_project`).
    No environment created: run `uv sync` in `my-project` (dg also does when a command first needs it).
    Next: `cd my-project`, add definitions with `dg scaffold defs dagster.asset my_asset.py`, then run `dg dev`.
    ");
    insta::assert_snapshot!(tree(&ctx.path("my-project")), @"
    .gitignore
    README.md
    pyproject.toml
    src/my_project/__init__.py
    src/my_project/definitions.py
    src/my_project/defs/__init__.py
    tests/__init__.py
    ");
    insta::assert_snapshot!(ctx.read("my-project/pyproject.toml"), @r#"
    [project]
    name = "my_project"
    requires-python = ">=3.10,<3.15"
    version = "0.1.0"
    dependencies = [
        "dagster==1.13.27",
    ]

    [build-system]
    requires = ["hatchling"]
    build-backend = "hatchling.build"

    # Ship pyproject.toml inside the wheel too: `[tool.dg]` below is how dg finds the project's modules.
    [tool.hatch.build.targets.wheel]
    force-include = { "pyproject.toml" = "pyproject.toml" }

    [tool.dg]
    directory_type = "project"

    [tool.dg.project]
    root_module = "my_project"
    registry_modules = [
        "my_project.components.*",
    ]
    "#);
    insta::assert_snapshot!(ctx.read("my-project/src/my_project/definitions.py"), @r#"
    """The code location of `my_project`.

    Every module under the `defs` folder next to this file is loaded, so new definitions only need a
    new file there (for example with `dg scaffold defs dagster.asset my_asset.py`).
    """

    from pathlib import Path

    import dagster as dg


    @dg.definitions
    def defs() -> dg.Definitions:
        return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    "#);
    insta::assert_snapshot!(ctx.read("my-project/README.md"), @"
    # my-project

    A Dagster project: its definitions live in `src/my_project/defs/`, one module per file, and
    `src/my_project/definitions.py` loads all of them.

    ## Set up

    The project's environment is managed by [uv](https://docs.astral.sh/uv/):

    ```bash
    uv sync
    ```

    creates `.venv` with `dagster` installed. (Without uv: `python3 -m venv .venv` and
    `.venv/bin/pip install -e .`.)

    ## Work on it

    ```bash
    dg scaffold defs dagster.asset my_asset.py   # add an asset under defs/
    dg check defs                                # load every definition and report problems
    dg dev                                       # open the Dagster UI at http://localhost:3000
    ```

    ## Learn more

    - Dagster documentation: https://docs.dagster.io/
    - Projects, workspaces and code locations: https://docs.dagster.io/guides/build/projects
    ");
    insta::assert_snapshot!(ctx.read("my-project/.gitignore"), @"
    # Python bytecode and build output
    __pycache__/
    *.py[cod]
    *.egg-info/
    build/
    dist/

    # Environments and local secrets
    .venv/
    venv/
    .env
    .envrc

    # Tool caches
    .pytest_cache/
    .mypy_cache/
    .ruff_cache/
    .coverage
    htmlcov/

    # Local Dagster instance (runs, event logs, schedules) and editor files
    .dagster/
    .idea/
    .vscode/
    .DS_Store
    ");
    for empty in [
        "src/my_project/__init__.py",
        "src/my_project/defs/__init__.py",
        "tests/__init__.py",
    ] {
        assert_eq!(ctx.read(Path::new("my-project").join(empty)), "", "{empty}");
    }
}

#[test]
fn project_in_current_empty_folder() {
    let ctx = TestContext::new();
    let dir = ctx.mkdir("dot-project");
    dg_snapshot!(ctx, ctx.create_dagster().args(["project", ".", "--no-uv-sync"]).current_dir(&dir), @"
    success: true
    exit_code: 0
    ----- stdout -----

    ----- stderr -----
    Created the Dagster project `dot-project` at `.` (Python package `dot_project`).
    No environment created: run `uv sync` in `.` (dg also does when a command first needs it).
    Next: add definitions with `dg scaffold defs dagster.asset my_asset.py`, then run `dg dev`.
    ");
    assert!(dir.join("src/dot_project/definitions.py").is_file());
}

#[test]
fn project_in_a_git_checkout_keeps_the_users_files() {
    // Real Dagster accepts `create-dagster project .` in a folder that is not empty (and overwrites
    // what is there); we accept it too when nothing would be overwritten, and keep the user's
    // README. Before, `.git` alone was enough to refuse.
    let ctx = TestContext::new();
    let dir = ctx.mkdir("checkout");
    ctx.write("checkout/.git/HEAD", "ref: refs/heads/main\n");
    ctx.write("checkout/README.md", "# Our data platform\n");
    ctx.write("checkout/LICENSE", "MIT\n");
    ctx.mkdir("checkout/data/raw");
    dg_snapshot!(ctx, ctx.create_dagster().args(["project", ".", "--no-uv-sync"]).current_dir(&dir), @"
    success: true
    exit_code: 0
    ----- stdout -----

    ----- stderr -----
    Created the Dagster project `checkout` at `.` (Python package `checkout`).
    Kept the existing `README.md`.
    No environment created: run `uv sync` in `.` (dg also does when a command first needs it).
    Next: add definitions with `dg scaffold defs dagster.asset my_asset.py`, then run `dg dev`.
    ");
    assert_eq!(ctx.read("checkout/README.md"), "# Our data platform\n");
    insta::assert_snapshot!(tree(&dir), @"
    .git/HEAD
    .gitignore
    LICENSE
    README.md
    data/raw/
    pyproject.toml
    src/checkout/__init__.py
    src/checkout/definitions.py
    src/checkout/defs/__init__.py
    tests/__init__.py
    ");
    // A second time, the project's own files are in the way: refused, nothing changes.
    let before = tree(&dir);
    dg_snapshot!(ctx, ctx.create_dagster().args(["project", ".", "--no-uv-sync"]).current_dir(&dir), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: `[TEMP]/work/checkout` already holds `pyproject.toml`, `src/checkout/__init__.py`, `src/checkout/definitions.py`, `src/checkout/defs/__init__.py` and 1 more, which the new files would overwrite
    hint: Move those files out of the way (other files, such as `.git`, may stay), or pass the name of a new folder instead of `.`.
    ");
    assert_eq!(tree(&dir), before);
}

#[test]
fn project_refusals_leave_the_disk_as_it_was() {
    let ctx = TestContext::new();
    ctx.write("taken/keep.txt", "mine");
    // The user's own `pyproject.toml` would be overwritten: that folder is refused.
    ctx.write("taken/pyproject.toml", "[project]\nname = \"mine\"\n");
    ctx.write("a-file", "");
    let nonempty = ctx.path("taken");
    let before = tree(&ctx.root);

    dg_snapshot!(ctx, ctx.create_dagster().args(["project", "1st-project", "--no-uv-sync"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: `1st-project` cannot be used as a project name: it starts with a digit, and a Python package name cannot
    hint: Use a name such as `project-1st-project`: letters, digits, `-` and `_`, starting with a letter.
    ");
    dg_snapshot!(ctx, ctx.create_dagster().args(["project", "class", "--no-uv-sync"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: `class` cannot be used as a project name: `class` is a Python keyword, so `import class` is a syntax error
    hint: Use a name such as `class-project`: letters, digits, `-` and `_`, starting with a letter.
    ");
    dg_snapshot!(ctx, ctx.create_dagster().args(["project", "my.project", "--no-uv-sync"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: `my.project` cannot be used as a project name: it contains a dot, and a Python package name may only hold letters, digits and `_`
    hint: Use a name such as `my-project`: letters, digits, `-` and `_`, starting with a letter.
    ");
    dg_snapshot!(ctx, ctx.create_dagster().args(["project", "my project", "--no-uv-sync"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: `my project` cannot be used as a project name: it contains a space, and a Python package name may only hold letters, digits and `_`
    hint: Use a name such as `my-project`: letters, digits, `-` and `_`, starting with a letter.
    ");
    dg_snapshot!(ctx, ctx.create_dagster().args(["project", "proj@1", "--no-uv-sync"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: `proj@1` cannot be used as a project name: it contains the character `@`, and a Python package name may only hold letters, digits and `_`
    hint: Use a name such as `proj-1`: letters, digits, `-` and `_`, starting with a letter.
    ");
    dg_snapshot!(ctx, ctx.create_dagster().args(["project", "dagster", "--no-uv-sync"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: `dagster` cannot be used as a project name: the package `dagster` would shadow the `dagster` package the project depends on
    hint: Use a name such as `dagster-project`.
    ");
    dg_snapshot!(ctx, ctx.create_dagster().args(["project", "sub/dagster-webserver", "--no-uv-sync"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: `dagster-webserver` cannot be used as a project name: the package `dagster_webserver` would shadow the `dagster_webserver` package the project depends on
    hint: Use a name such as `dagster-webserver-project`.
    ");
    dg_snapshot!(ctx, ctx.create_dagster().args(["project", "json", "--no-uv-sync"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: `json` cannot be used as a project name: the package `json` would shadow the standard library module `json`
    hint: Use a name such as `json-project`.
    ");
    dg_snapshot!(ctx, ctx.create_dagster().args(["project", "taken", "--no-uv-sync"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: `[TEMP]/work/taken` already holds `pyproject.toml`, which the new files would overwrite
    hint: Move those files out of the way (other files, such as `.git`, may stay), or pass the path of a new folder.
    ");
    dg_snapshot!(ctx, ctx.create_dagster().args(["project", "a-file", "--no-uv-sync"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: `[TEMP]/work/a-file` already exists and is not a folder
    hint: Pass the path of a folder that does not exist yet.
    ");
    dg_snapshot!(ctx, ctx.create_dagster().args(["project", ".", "--no-uv-sync"]).current_dir(&nonempty), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: `[TEMP]/work/taken` already holds `pyproject.toml`, which the new files would overwrite
    hint: Move those files out of the way (other files, such as `.git`, may stay), or pass the name of a new folder instead of `.`.
    ");
    // `--uv-sync` without uv is refused before anything is written.
    dg_snapshot!(ctx, ctx.create_dagster().args(["project", "needs-uv", "--uv-sync"]).env(env::DG_UV, "/nonexistent/uv"), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: `--uv-sync` needs `uv`, and it was not found on `PATH`
    hint: Install uv (https://docs.astral.sh/uv/getting-started/installation/), or pass `--no-uv-sync` to create the files only.
    ");

    assert_eq!(tree(&ctx.root), before);
}

#[test]
fn project_without_uv_is_created_with_a_warning() {
    let ctx = TestContext::new();
    dg_snapshot!(ctx, ctx.create_dagster().args(["project", "no-uv"]).env(env::DG_UV, "/nonexistent/uv"), @"
    success: true
    exit_code: 0
    ----- stdout -----

    ----- stderr -----
    Created the Dagster project `no-uv` at `no-uv` (Python package `no_uv`).
    warning: `uv` was not found, so the project has no environment yet. Install uv (https://docs.astral.sh/uv/getting-started/installation/) and run `uv sync` in `no-uv`, or `python3 -m venv .venv && .venv/bin/pip install -e .` there.
    Next: `cd no-uv`, add definitions with `dg scaffold defs dagster.asset my_asset.py`, then run `dg dev`.
    ");
    assert!(ctx.path("no-uv/pyproject.toml").is_file());
    assert!(!ctx.path("no-uv/.venv").exists());
}

#[test]
fn interactive_terminal_is_asked_before_syncing() {
    let ctx = TestContext::new();
    // `script` gives the command a terminal; the answer `n` comes through it.
    let command = format!("{} project asked", ctx.bin("create-dagster").display());
    let out = ctx
        .command("script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(b"n\n")?;
            child.wait_with_output()
        })
        .expect("run `script` (util-linux)");
    assert!(out.status.success());
    // The terminal echoes the answer whenever it arrives: leave the echo out.
    let text: String = String::from_utf8_lossy(&out.stdout)
        .replace('\r', "")
        .lines()
        .filter(|l| *l != "n")
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!(ctx.filter(&text), @"
    Created the Dagster project `asked` at `asked` (Python package `asked`).
    Create the project's environment now with `uv sync` (writes `uv.lock` and `.venv`)? [Y/n]
    No environment created: run `uv sync` in `asked` (dg also does when a command first needs it).
    Next: `cd asked`, add definitions with `dg scaffold defs dagster.asset my_asset.py`, then run `dg dev`.
    ");
    assert!(ctx.path("asked/pyproject.toml").is_file());
    assert!(!ctx.path("asked/.venv").exists());
}

#[test]
fn workspace_files() {
    let ctx = TestContext::new();
    dg_snapshot!(ctx, ctx.create_dagster().args(["workspace", "my-ws", "--no-uv-sync"]), @"
    success: true
    exit_code: 0
    ----- stdout -----

    ----- stderr -----
    Created the Dagster workspace `my-ws` at `my-ws`.
    Next: `cd my-ws` and add a project with `create-dagster project projects/my-project`.
    ");
    insta::assert_snapshot!(tree(&ctx.path("my-ws")), @"
    .gitignore
    README.md
    dg.toml
    projects/
    pyproject.toml
    ");
    assert!(ctx.path("my-ws/projects").is_dir());
    insta::assert_snapshot!(ctx.read("my-ws/dg.toml"), @r#"
    directory_type = "workspace"

    [workspace]
    "#);
    insta::assert_snapshot!(ctx.read("my-ws/pyproject.toml"), @r#"
    # The workspace's own environment, for tools that act on all projects at once (linters, test
    # runners). Each project under `projects/` keeps its own pyproject.toml, uv.lock and .venv.
    [project]
    name = "my-ws"
    requires-python = ">=3.10,<3.15"
    version = "0.1.0"
    dependencies = []

    [tool.uv]
    package = false
    "#);
    insta::assert_snapshot!(ctx.read("my-ws/README.md"), @"
    # my-ws

    A Dagster workspace: every project listed in `dg.toml` under `[[workspace.projects]]` is a code
    location, loaded in its own Python environment.

    ## Add a project

    ```bash
    create-dagster project projects/my-project
    ```

    creates the project under `projects/`, creates its environment with uv, and registers it in
    `dg.toml`.

    ## Work on it

    ```bash
    dg list projects   # the projects of this workspace
    dg check defs      # load every project's definitions and report problems
    dg dev             # open the Dagster UI with all projects at http://localhost:3000
    ```

    ## Learn more

    - Dagster documentation: https://docs.dagster.io/
    - Projects, workspaces and code locations: https://docs.dagster.io/guides/build/projects
    ");
    // The workspace's `.gitignore` is the one a standalone project gets.
    let out = ctx
        .create_dagster()
        .args(["project", "probe", "--no-uv-sync"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(ctx.read("my-ws/.gitignore"), ctx.read("probe/.gitignore"));
}

#[test]
fn workspace_refusals() {
    let ctx = TestContext::new();
    // Other files may stay (`keep.txt`), but the workspace's `pyproject.toml` would overwrite theirs.
    ctx.write("full/keep.txt", "mine");
    ctx.write("full/pyproject.toml", "[project]\nname = \"mine\"\n");
    let full_before = tree(&ctx.root);
    dg_snapshot!(ctx, ctx.create_dagster().args(["workspace", "full", "--no-uv-sync"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: `[TEMP]/work/full` already holds `pyproject.toml`, which the new files would overwrite
    hint: Move those files out of the way (other files, such as `.git`, may stay), or pass the path of a new folder.
    ");
    assert_eq!(tree(&ctx.root), full_before);
    dg_snapshot!(ctx, ctx.create_dagster().args(["workspace", "bad name", "--no-uv-sync"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: `bad name` cannot be used as a workspace name: a Python project name may only hold letters, digits, `-`, `_` and `.`
    hint: Use letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit.
    ");
    dg_snapshot!(ctx, ctx.create_dagster().args(["workspace", "ws", "--no-uv-sync"]), @"
    success: true
    exit_code: 0
    ----- stdout -----

    ----- stderr -----
    Created the Dagster workspace `ws` at `ws`.
    Next: `cd ws` and add a project with `create-dagster project projects/my-project`.
    ");
    let before = tree(&ctx.root);
    dg_snapshot!(ctx, ctx.create_dagster().args(["workspace", "ws/projects/inner", "--no-uv-sync"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: `[TEMP]/work/ws/projects/inner` is inside the workspace at `[TEMP]/work/ws`
    hint: Create the workspace outside `[TEMP]/work/ws`, or add a project to it with `create-dagster project`.
    ");
    dg_snapshot!(ctx, ctx.create_dagster().args(["workspace", "inner", "--no-uv-sync"]).current_dir(ctx.path("ws/projects")), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: `[TEMP]/work/ws/projects/inner` is inside the workspace at `[TEMP]/work/ws`
    hint: Create the workspace outside `[TEMP]/work/ws`, or add a project to it with `create-dagster project`.
    ");
    assert_eq!(tree(&ctx.root), before);
}

#[test]
fn projects_in_a_workspace_are_registered() {
    let ctx = TestContext::new();
    let ws = ctx.path("ws");
    dg_snapshot!(ctx, ctx.create_dagster().args(["workspace", "ws", "--no-uv-sync"]), @"
    success: true
    exit_code: 0
    ----- stdout -----

    ----- stderr -----
    Created the Dagster workspace `ws` at `ws`.
    Next: `cd ws` and add a project with `create-dagster project projects/my-project`.
    ");
    dg_snapshot!(ctx, ctx.create_dagster().args(["project", "projects/proj-a", "--no-uv-sync"]).current_dir(&ws), @"
    success: true
    exit_code: 0
    ----- stdout -----

    ----- stderr -----
    Created the Dagster project `proj-a` at `projects/proj-a` (Python package `proj_a`).
    Added `projects/proj-a` to the workspace's `dg.toml`.
    No environment created: run `uv sync` in `projects/proj-a` (dg also does when a command first needs it).
    Next: `cd projects/proj-a`, add definitions with `dg scaffold defs dagster.asset my_asset.py`, then run `dg dev`.
    ");
    // From inside `projects/`, the path is still recorded relative to the workspace root.
    dg_snapshot!(ctx, ctx.create_dagster().args(["project", "proj-b", "--no-uv-sync"]).current_dir(ws.join("projects")), @"
    success: true
    exit_code: 0
    ----- stdout -----

    ----- stderr -----
    Created the Dagster project `proj-b` at `proj-b` (Python package `proj_b`).
    Added `projects/proj-b` to the workspace's `[TEMP]/work/ws/dg.toml`.
    No environment created: run `uv sync` in `proj-b` (dg also does when a command first needs it).
    Next: `cd proj-b`, add definitions with `dg scaffold defs dagster.asset my_asset.py`, then run `dg dev`.
    ");
    insta::assert_snapshot!(ctx.read("ws/dg.toml"), @r#"
    directory_type = "workspace"

    [workspace]

    [[workspace.projects]]
    path = "projects/proj-a"

    [[workspace.projects]]
    path = "projects/proj-b"
    "#);
    // Inside a workspace the project has no `.gitignore` of its own: the workspace's covers it.
    insta::assert_snapshot!(tree(&ws.join("projects")), @"
    proj-a/README.md
    proj-a/pyproject.toml
    proj-a/src/proj_a/__init__.py
    proj-a/src/proj_a/definitions.py
    proj-a/src/proj_a/defs/__init__.py
    proj-a/tests/__init__.py
    proj-b/README.md
    proj-b/pyproject.toml
    proj-b/src/proj_b/__init__.py
    proj-b/src/proj_b/definitions.py
    proj-b/src/proj_b/defs/__init__.py
    proj-b/tests/__init__.py
    ");
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]).current_dir(&ws), @"
    success: true
    exit_code: 0
    ----- stdout -----
    projects/proj-a
    projects/proj-b

    ----- stderr -----
    ");
}

#[test]
fn registration_keeps_comments_and_refuses_listed_paths() {
    let ctx = TestContext::new();
    let dg_toml = "# Team workspace. Keep this comment.\ndirectory_type = 'workspace'   # odd spacing\n\n[workspace]\n# projects, oldest first\n[[workspace.projects]]\npath = 'projects/legacy'   # not created yet\n\n[cli]\nverbose = false\n";
    ctx.write("ws/dg.toml", dg_toml);
    let ws = ctx.path("ws");
    dg_snapshot!(ctx, ctx.create_dagster().args(["project", "projects/legacy", "--no-uv-sync"]).current_dir(&ws), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: the workspace `[TEMP]/work/ws/dg.toml` already lists a project at `projects/legacy`
    hint: Pick another folder name for the new project.
    ");
    assert_eq!(ctx.read("ws/dg.toml"), dg_toml);
    assert!(!ws.join("projects").exists());
    dg_snapshot!(ctx, ctx.create_dagster().args(["project", "projects/new-one", "--no-uv-sync"]).current_dir(&ws), @"
    success: true
    exit_code: 0
    ----- stdout -----

    ----- stderr -----
    Created the Dagster project `new-one` at `projects/new-one` (Python package `new_one`).
    Added `projects/new-one` to the workspace's `dg.toml`.
    No environment created: run `uv sync` in `projects/new-one` (dg also does when a command first needs it).
    Next: `cd projects/new-one`, add definitions with `dg scaffold defs dagster.asset my_asset.py`, then run `dg dev`.
    ");
    insta::assert_snapshot!(ctx.read("ws/dg.toml"), @r#"
    # Team workspace. Keep this comment.
    directory_type = 'workspace'   # odd spacing

    [workspace]
    # projects, oldest first
    [[workspace.projects]]
    path = 'projects/legacy'   # not created yet

    [[workspace.projects]]
    path = "projects/new-one"

    [cli]
    verbose = false
    "#);
}

#[test]
fn registration_keeps_crlf_line_endings_byte_for_byte() {
    // Before: the whole `dg.toml` of a Windows-edited workspace was rewritten with `\n` endings.
    let ctx = TestContext::new();
    let dg_toml = "# made on Windows\r\ndirectory_type = \"workspace\"\r\n\r\n[workspace]\r\n\r\n[[workspace.projects]]\r\npath = \"projects/a\" # first\r\n\r\n[cli]\r\nverbose = false\r\n";
    ctx.write("ws/dg.toml", dg_toml);
    let out = ctx.run(
        ctx.create_dagster()
            .args(["project", "projects/b", "--no-uv-sync"])
            .current_dir(ctx.path("ws")),
    );
    assert!(out.starts_with("success: true"), "{out}");
    let (head, tail) = dg_toml.split_at(dg_toml.find("[cli]").unwrap());
    assert_eq!(
        ctx.read("ws/dg.toml"),
        format!("{head}[[workspace.projects]]\r\npath = \"projects/b\"\r\n\r\n{tail}")
    );
}

#[test]
fn scaffold_defs_files() {
    let ctx = TestContext::new();
    let out = ctx
        .create_dagster()
        .args(["project", "proj", "--no-uv-sync"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let proj = ctx.path("proj");
    let defs = proj.join("src/proj/defs");
    dg_snapshot!(ctx, ctx.dg().args(["scaffold", "defs", "dagster.asset", "orders.py"]).current_dir(&proj), @"
    success: true
    exit_code: 0
    ----- stdout -----

    ----- stderr -----
    Created `src/proj/defs/orders.py` with a `dagster.asset` named `orders` in project `proj`.
    ");
    insta::assert_snapshot!(std::fs::read_to_string(defs.join("orders.py")).unwrap(), @r#"
    import dagster as dg


    @dg.asset
    def orders(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        """Replace this body with the computation that produces `orders`."""
        context.log.info("Materializing orders")
        return dg.MaterializeResult(metadata={"rows": 0})
    "#);
    dg_snapshot!(ctx, ctx.dg().args(["scaffold", "defs", "dagster.asset_check", "orders_check.py", "--asset-key", "orders"]).current_dir(&proj), @"
    success: true
    exit_code: 0
    ----- stdout -----

    ----- stderr -----
    Created `src/proj/defs/orders_check.py` with a `dagster.asset_check` named `orders_check` in project `proj`.
    ");
    insta::assert_snapshot!(std::fs::read_to_string(defs.join("orders_check.py")).unwrap(), @r#"
    import dagster as dg


    @dg.asset_check(asset=dg.AssetKey(["orders"]))
    def orders_check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        """Replace this body with a test of the latest value of `orders`."""
        return dg.AssetCheckResult(passed=True)
    "#);
    // Short names work too, and nested folders are created.
    dg_snapshot!(ctx, ctx.dg().args(["scaffold", "defs", "multi_asset", "sales/pair.py"]).current_dir(&defs), @"
    success: true
    exit_code: 0
    ----- stdout -----

    ----- stderr -----
    Created `sales/pair.py` with a `dagster.multi_asset` named `pair` in project `proj`.
    ");
    insta::assert_snapshot!(std::fs::read_to_string(defs.join("sales/pair.py")).unwrap(), @r#"
    import dagster as dg


    @dg.multi_asset(
        specs=[
            dg.AssetSpec(key=dg.AssetKey(["pair", "first_asset"])),
            dg.AssetSpec(key=dg.AssetKey(["pair", "second_asset"])),
        ]
    )
    def pair(context: dg.AssetExecutionContext):
        """Replace this body with one computation that produces both assets."""
        yield dg.MaterializeResult(asset_key=dg.AssetKey(["pair", "first_asset"]))
        yield dg.MaterializeResult(asset_key=dg.AssetKey(["pair", "second_asset"]))
    "#);
    for (kind, file) in [
        ("dagster.job", "nightly.py"),
        ("dagster.schedule", "daily.py"),
        ("dagster.sensor", "watch.py"),
        ("dagster.resources", "resources.py"),
    ] {
        let out = ctx
            .dg()
            .args(["scaffold", "defs", kind, file, "--target-path", "proj"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{kind}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    insta::assert_snapshot!(std::fs::read_to_string(defs.join("nightly.py")).unwrap(), @r#"
    import dagster as dg


    @dg.op
    def nightly_op(context: dg.OpExecutionContext) -> None:
        """Replace this body with the work of the job's first step."""
        context.log.info("Running nightly")


    @dg.job
    def nightly():
        nightly_op()
    "#);
    insta::assert_snapshot!(std::fs::read_to_string(defs.join("daily.py")).unwrap(), @r#"
    import dagster as dg


    @dg.schedule(cron_schedule="@daily", target=dg.AssetSelection.all())
    def daily(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        """Runs once a day and materializes every asset; narrow `target` to choose fewer."""
        return dg.RunRequest()
    "#);
    insta::assert_snapshot!(std::fs::read_to_string(defs.join("watch.py")).unwrap(), @r#"
    import dagster as dg


    @dg.sensor(target=dg.AssetSelection.all(), minimum_interval_seconds=30)
    def watch(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        """Checked every 30 seconds; return a `dg.RunRequest` when something should run."""
        return dg.SkipReason("Nothing to do yet: change watch to request runs.")
    "#);
    insta::assert_snapshot!(std::fs::read_to_string(defs.join("resources.py")).unwrap(), @r#"
    import dagster as dg


    @dg.definitions
    def resources() -> dg.Definitions:
        """Resources made available to every asset, check and job of the project, by name."""
        return dg.Definitions(resources={})
    "#);
}

#[test]
fn scaffold_defs_refusals() {
    let ctx = TestContext::new();
    let out = ctx
        .create_dagster()
        .args(["project", "proj", "--no-uv-sync"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let proj = ctx.path("proj");
    ctx.write("proj/src/proj/defs/existing.py", "# mine\n");
    let before = tree(&ctx.root);
    let scaffold = |args: &[&str]| {
        let mut cmd = ctx.dg();
        cmd.args(["scaffold", "defs"]).args(args).current_dir(&proj);
        cmd
    };
    dg_snapshot!(ctx, &mut scaffold(&["dagster.asst", "a.py"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: unknown definition type `dagster.asst`
    hint: Did you mean `dagster.asset`? Known types: `dagster.asset`, `dagster.asset_check`, `dagster.multi_asset`, `dagster.job`, `dagster.schedule`, `dagster.sensor`, `dagster.resources`.
    ");
    dg_snapshot!(ctx, &mut scaffold(&["kubernetes_pod", "a.py"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: unknown definition type `kubernetes_pod`
    hint: Known types: `dagster.asset`, `dagster.asset_check`, `dagster.multi_asset`, `dagster.job`, `dagster.schedule`, `dagster.sensor`, `dagster.resources`.
    ");
    dg_snapshot!(ctx, &mut scaffold(&["dagster.asset", "existing.py"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: `[TEMP]/work/proj/src/proj/defs/existing.py` already exists
    hint: Choose another file name, or delete the file first.
    ");
    dg_snapshot!(ctx, &mut scaffold(&["dagster.asset", "../escape.py"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: cannot scaffold at `../escape.py`: it leads outside the defs folder
    hint: Pass a path relative to the project's defs folder, such as `my_asset.py` or `sales/orders.py`.
    ");
    dg_snapshot!(ctx, &mut scaffold(&["dagster.asset", "sub/../../../escape.py"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: cannot scaffold at `sub/../../../escape.py`: it leads outside the defs folder
    hint: Pass a path relative to the project's defs folder, such as `my_asset.py` or `sales/orders.py`.
    ");
    dg_snapshot!(ctx, &mut scaffold(&["dagster.asset", "/tmp/absolute.py"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: cannot scaffold at `/tmp/absolute.py`: it is absolute, and definitions live in the project's defs folder
    hint: Pass a path relative to the project's defs folder, such as `my_asset.py` or `sales/orders.py`.
    ");
    dg_snapshot!(ctx, &mut scaffold(&["dagster.asset", "no_extension"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: cannot scaffold at `no_extension`: the file name must end in `.py`
    hint: Use `no_extension.py`.
    ");
    dg_snapshot!(ctx, &mut scaffold(&["dagster.asset", "my-asset.py"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: cannot scaffold at `my-asset.py`: `my-asset` is not a Python identifier, so Dagster could not import it as a module
    hint: Use letters, digits and `_`, such as `my_asset.py`.
    ");
    dg_snapshot!(ctx, &mut scaffold(&["dagster.asset_check", "check.py"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: `dagster.asset_check` needs `--asset-key`
    hint: For example: `dg scaffold defs dagster.asset_check check.py --asset-key my_asset`.
    ");
    dg_snapshot!(ctx, &mut scaffold(&["dagster.asset_check", "check.py", "--asset-key", "raw orders"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: `raw orders` is not an asset key: each part holds only letters, digits and `_`, parts separated by `/`
    hint: For example `--asset-key raw/orders`.
    ");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&ctx.root, proj.join("src/proj/defs/outside")).unwrap();
        dg_snapshot!(ctx, &mut scaffold(&["dagster.asset", "outside/x.py"]), @"
        success: false
        exit_code: 2
        ----- stdout -----

        ----- stderr -----
        error: cannot scaffold at `outside/x.py`: it leads outside the defs folder through a symbolic link
        hint: Pick a path whose folders are real folders inside the defs folder.
        ");
        std::fs::remove_file(proj.join("src/proj/defs/outside")).unwrap();
    }
    // Outside any project.
    dg_snapshot!(ctx, ctx.dg().args(["scaffold", "defs", "dagster.asset", "a.py"]), @"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: This command must be run inside a Dagster project directory (looked in `[TEMP]/work` and its parents)
    hint: You may have wanted to run this command in one of: `[TEMP]/work/proj` (or pass `--target-path`).
    ");
    assert_eq!(tree(&ctx.root), before);
}

#[test]
fn scaffold_defs_help_lists_the_types() {
    let ctx = TestContext::new();
    dg_snapshot!(ctx, ctx.dg().args(["scaffold", "defs", "--help"]), @"
    success: true
    exit_code: 0
    ----- stdout -----
    Scaffold a Python file with a Dagster definition under the project's defs folder

    Usage: dg scaffold defs [OPTIONS] <TYPE> <PATH>

    Arguments:
      <TYPE>  The definition type, such as `dagster.asset` (or `asset`); the list is below
      <PATH>  The file to create, relative to the defs folder, such as `my_asset.py` or
              `sales/orders.py`

    Options:
          --asset-key <KEY>     The asset a `dagster.asset_check` checks (`a/b` for a key with two
                                parts)
          --target-path <PATH>  Directory to load the context from (a folder with a `dg.toml` or
                                `pyproject.toml`, or below one)
          --verbose             Enable verbose output for debugging
      -h, --help                Print help

    Definition types:
      dagster.asset         an asset computed by one Python function
      dagster.asset_check   a check of an asset's data (needs `--asset-key`)
      dagster.multi_asset   several assets computed by one Python function
      dagster.job           a job with one op
      dagster.schedule      a daily schedule of every asset
      dagster.sensor        a sensor checked every 30 seconds
      dagster.resources     the resources shared by the project's definitions

    ----- stderr -----
    ");
}
