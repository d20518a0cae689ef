//! Finding each project's Python interpreter, the way Dagster's `dg` and `uv run` do.
//!
//! In order of precedence:
//! 1. `--use-active-venv`: the active virtual environment (`$VIRTUAL_ENV`);
//! 2. `DG_PROJECT_PYTHON_EXECUTABLE` in the project's `.env` (relative to the project root);
//! 3. the `.venv` of the enclosing uv workspace, when the project is one of its members;
//! 4. the project's own `.venv`.
//!
//! In cases 3 and 4 the environment is created or synced with `uv sync` when it is missing or older
//! than `pyproject.toml` / `uv.lock` (unless sync is turned off with `--no-sync`). The project's
//! `.env` is loaded into every process started with [`PythonEnvironment::command`].

use std::path::{Path, PathBuf};
use std::process::Command;

use dg_core::env as vars;

use crate::dotenv::DotEnv;
use crate::error::PythonError;
use crate::process::{LineSink, Output};
use crate::uv;

/// Where a project's interpreter came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvSource {
    /// The active virtual environment (`--use-active-venv`).
    ActiveVenv,
    /// `DG_PROJECT_PYTHON_EXECUTABLE` in the project's `.env`.
    DotEnv,
    /// The `.venv` of the uv workspace rooted at this folder.
    UvWorkspace(PathBuf),
    /// The project's own `.venv`.
    ProjectVenv,
}

/// How to find and prepare environments; resolved once from flags by the command.
#[derive(Clone, Default)]
pub struct EnvOptions {
    /// Use the active virtual environment instead of the project's (`--use-active-venv`).
    pub use_active_venv: bool,
    /// Never run `uv sync` (`--no-sync`).
    pub no_sync: bool,
    /// Where uv's output goes while syncing (inherited: uv's own progress shows on the terminal).
    pub sync_output: Output,
    /// Receives uv's output lines when `sync_output` is [`Output::Capture`].
    pub sync_sink: Option<LineSink>,
}

/// A project's ready-to-use Python environment.
#[derive(Debug, Clone)]
pub struct PythonEnvironment {
    /// The project this environment belongs to (for messages).
    pub project: String,
    /// The project root; processes run with it as working directory.
    pub project_root: PathBuf,
    /// The interpreter (exists).
    pub interpreter: PathBuf,
    /// The virtual environment folder, when the interpreter lives in one.
    pub venv: Option<PathBuf>,
    /// Where the interpreter came from.
    pub source: EnvSource,
    /// The project's `.env` (empty when it has none).
    pub dotenv: DotEnv,
    /// Whether `uv sync` ran to prepare it.
    pub synced: bool,
}

impl PythonEnvironment {
    /// Finds (and, unless told not to, creates or syncs) the environment of the project `name`
    /// rooted at `root`.
    pub fn resolve(name: &str, root: &Path, opts: &EnvOptions) -> Result<Self, PythonError> {
        let dotenv = DotEnv::load(name, &root.join(".env"))?;
        let mut env = Self {
            project: name.to_owned(),
            project_root: root.to_path_buf(),
            interpreter: PathBuf::new(),
            venv: None,
            source: EnvSource::ProjectVenv,
            dotenv,
            synced: false,
        };
        if opts.use_active_venv {
            let venv = std::env::var_os(vars::VIRTUAL_ENV)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| PythonError::NoActiveVenv {
                    project: name.to_owned(),
                })?;
            let venv = PathBuf::from(venv);
            env.interpreter = venv_python(&venv);
            env.venv = Some(venv);
            env.source = EnvSource::ActiveVenv;
            return env.checked("`$VIRTUAL_ENV` (`--use-active-venv`)", || {
                "Recreate the active environment, or drop `--use-active-venv`.".into()
            });
        }
        if let Some(value) = env.dotenv.get(vars::DG_PROJECT_PYTHON_EXECUTABLE) {
            env.interpreter = root.join(value);
            env.venv = venv_of(&env.interpreter);
            env.source = EnvSource::DotEnv;
            let env_file = root.join(".env");
            return env.checked(
                &format!(
                    "`{}` in `{}`",
                    vars::DG_PROJECT_PYTHON_EXECUTABLE,
                    env_file.display()
                ),
                || {
                    format!(
                        "Point `{}` in `{}` at an existing interpreter, or remove the line to use the project's `.venv`.",
                        vars::DG_PROJECT_PYTHON_EXECUTABLE,
                        env_file.display()
                    )
                },
            );
        }
        let venv_root = match uv::workspace_root_of(root) {
            Some(ws) => {
                env.source = EnvSource::UvWorkspace(ws.clone());
                ws
            }
            None => root.to_path_buf(),
        };
        let venv = venv_root.join(".venv");
        env.interpreter = venv_python(&venv);
        env.venv = Some(venv.clone());
        if !opts.no_sync && uv::needs_sync(root, &venv_root, &venv) {
            uv::sync(name, root, &venv, opts)?;
            env.synced = true;
        }
        let dir = root.display().to_string();
        env.checked(&format!("`{}`", venv.display()), || {
            if opts.no_sync {
                format!("Run `uv sync` in `{dir}` to create it, or drop `--no-sync`.")
            } else {
                format!("Run `uv sync` in `{dir}` and check that it creates `.venv`.")
            }
        })
    }

    fn checked(self, source_desc: &str, fix: impl FnOnce() -> String) -> Result<Self, PythonError> {
        if self.interpreter.exists() {
            Ok(self)
        } else {
            Err(PythonError::MissingInterpreter {
                project: self.project,
                path: self.interpreter,
                source_desc: source_desc.to_owned(),
                fix: fix(),
            })
        }
    }

    /// A command that runs this interpreter in the project root with the project's `.env` loaded
    /// and its virtual environment active (`VIRTUAL_ENV`, `PATH`).
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.interpreter);
        cmd.current_dir(&self.project_root);
        cmd.env_remove("PYTHONHOME");
        if let Some(venv) = &self.venv {
            cmd.env(vars::VIRTUAL_ENV, venv);
            let bin = venv.join("bin");
            let path = std::env::var_os("PATH").unwrap_or_default();
            let joined =
                std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&path)))
                    .unwrap_or(path);
            cmd.env("PATH", joined);
        }
        for (key, value) in self.dotenv.vars() {
            cmd.env(key, value);
        }
        cmd
    }

    /// The `site-packages` folders of the environment (for fingerprinting what is installed).
    pub fn site_packages(&self) -> Vec<PathBuf> {
        let Some(venv) = &self.venv else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for lib in ["lib", "lib64"] {
            let Ok(entries) = std::fs::read_dir(venv.join(lib)) else {
                continue;
            };
            for entry in entries.flatten() {
                let sp = entry.path().join("site-packages");
                if sp.is_dir() && !found.contains(&sp) {
                    found.push(sp);
                }
            }
        }
        found.sort();
        found
    }
}

/// The interpreter of a virtual environment folder.
pub fn venv_python(venv: &Path) -> PathBuf {
    venv.join("bin").join("python")
}

/// The virtual environment an interpreter lives in (`<venv>/bin/python` with `<venv>/pyvenv.cfg`).
fn venv_of(interpreter: &Path) -> Option<PathBuf> {
    let venv = interpreter.parent()?.parent()?;
    venv.join("pyvenv.cfg").exists().then(|| venv.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_interpreter_wins_and_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(".env"),
            "DG_PROJECT_PYTHON_EXECUTABLE=nowhere/bin/python\nFOO=bar\n",
        )
        .unwrap();
        let err = PythonEnvironment::resolve("p1", dir.path(), &EnvOptions::default()).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("project `p1`"), "{text}");
        assert!(text.contains("nowhere/bin/python"), "{text}");
        let hint = dg_core::Diagnostic::hint(&err).unwrap();
        assert!(hint.contains("DG_PROJECT_PYTHON_EXECUTABLE"), "{hint}");
    }

    #[test]
    fn missing_venv_with_no_sync_names_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let opts = EnvOptions {
            no_sync: true,
            ..Default::default()
        };
        let err = PythonEnvironment::resolve("p2", dir.path(), &opts).unwrap_err();
        assert!(matches!(err, PythonError::MissingInterpreter { .. }));
        let hint = dg_core::Diagnostic::hint(&err).unwrap();
        assert!(
            hint.contains("uv sync") && hint.contains("--no-sync"),
            "{hint}"
        );
    }

    #[test]
    fn command_loads_dotenv_and_activates_venv() {
        let dir = tempfile::tempdir().unwrap();
        let venv = dir.path().join(".venv");
        std::fs::create_dir_all(venv.join("bin")).unwrap();
        std::fs::write(venv.join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        std::fs::write(venv.join("bin/python"), "").unwrap();
        std::fs::write(
            dir.path().join(".env"),
            "DG_PROJECT_PYTHON_EXECUTABLE=.venv/bin/python\nGREETING=\"hi there\"\n",
        )
        .unwrap();
        let env = PythonEnvironment::resolve("p3", dir.path(), &EnvOptions::default()).unwrap();
        assert_eq!(env.source, EnvSource::DotEnv);
        assert_eq!(env.venv.as_deref(), Some(venv.as_path()));
        let cmd = env.command();
        let envs: Vec<_> = cmd.get_envs().collect();
        assert!(envs
            .iter()
            .any(|(k, v)| *k == "GREETING" && v.map(|v| v == "hi there").unwrap_or(false)));
        assert!(envs.iter().any(|(k, _)| *k == "VIRTUAL_ENV"));
    }
}
