//! Turning a folder name into a project's Python package name, and refusing the names that cannot
//! work: not an identifier, a Python keyword, or a package the project itself imports.
//!
//! The package name is the folder name with `-` turned into `_` (as Dagster does). Every refusal
//! carries a suggestion that would pass.

use crate::error::ScaffoldError;
use crate::python_names::{KEYWORDS, STDLIB_MODULES};

/// The packages a scaffolded project depends on, directly (`dagster`) or through the tools that
/// drive it. A project package with one of these names would be imported instead of the real one.
pub const DEPENDENCY_PACKAGES: &[&str] = &[
    "dagster",
    "dagster_pipes",
    "dagster_shared",
    "dagster_graphql",
    "dagster_webserver",
    "dagster_dg_cli",
    "dagster_dg_core",
    "create_dagster",
];

/// A checked project name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectName {
    /// The folder name as given (`my-project`).
    pub name: String,
    /// The Python package and distribution name (`my_project`).
    pub package: String,
}

/// Checks that `name` (the last component of the project's path) can name a Python package that
/// does not shadow one the project needs.
pub fn project_name(name: &str) -> Result<ProjectName, ScaffoldError> {
    validate(name).map_err(|refusal| match refusal {
        Refusal::Invalid(reason) => ScaffoldError::InvalidProjectName {
            name: name.to_owned(),
            reason,
            suggestion: suggest(name),
        },
        Refusal::Shadows { package, shadowed } => ScaffoldError::ShadowingProjectName {
            name: name.to_owned(),
            package,
            shadowed,
            suggestion: format!("{name}-project"),
        },
    })
}

/// Why a name was refused, before a suggestion is attached.
enum Refusal {
    Invalid(String),
    Shadows { package: String, shadowed: String },
}

fn validate(name: &str) -> Result<ProjectName, Refusal> {
    if name.is_empty() {
        return Err(Refusal::Invalid("the name is empty".to_owned()));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        let what = match bad {
            ' ' => "a space".to_owned(),
            '.' => "a dot".to_owned(),
            c => format!("the character `{c}`"),
        };
        return Err(Refusal::Invalid(format!(
            "it contains {what}, and a Python package name may only hold letters, digits and `_`"
        )));
    }
    let first = name.chars().next().unwrap_or('_');
    if first.is_ascii_digit() {
        return Err(Refusal::Invalid(
            "it starts with a digit, and a Python package name cannot".to_owned(),
        ));
    }
    if !first.is_ascii_alphabetic() || !name.ends_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(Refusal::Invalid(
            "it must start with a letter and end with a letter or digit".to_owned(),
        ));
    }
    let package = name.replace('-', "_");
    if KEYWORDS.contains(&package.as_str()) {
        return Err(Refusal::Invalid(format!(
            "`{package}` is a Python keyword, so `import {package}` is a syntax error"
        )));
    }
    let shadowed = if DEPENDENCY_PACKAGES.contains(&package.as_str()) {
        Some(format!("the `{package}` package the project depends on"))
    } else if STDLIB_MODULES.contains(&package.as_str()) {
        Some(format!("the standard library module `{package}`"))
    } else {
        None
    };
    match shadowed {
        Some(shadowed) => Err(Refusal::Shadows { package, shadowed }),
        None => Ok(ProjectName {
            name: name.to_owned(),
            package,
        }),
    }
}

/// A name close to `name` that [`project_name`] accepts, if one is easy to find.
fn suggest(name: &str) -> Option<String> {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches(|c: char| c == '-' || c == '_');
    if trimmed.is_empty() {
        return None;
    }
    let candidate = if trimmed.starts_with(|c: char| c.is_ascii_digit()) {
        format!("project-{trimmed}")
    } else {
        trimmed.to_owned()
    };
    [candidate.clone(), format!("{candidate}-project")]
        .into_iter()
        .find(|c| validate(c).is_ok())
}

/// Checks that `name` (the workspace folder) can name the workspace's Python environment, a
/// distribution name as PEP 508 defines it.
pub fn workspace_name(name: &str) -> Result<String, ScaffoldError> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let edges_ok = name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if name.chars().all(ok_char) && edges_ok {
        Ok(name.to_owned())
    } else {
        Err(ScaffoldError::InvalidWorkspaceName {
            name: name.to_owned(),
            reason: "a Python project name may only hold letters, digits, `-`, `_` and `.`"
                .to_owned(),
        })
    }
}

/// Whether `s` is a Python identifier (ASCII) that is not a keyword: usable as a function or
/// module name in generated code.
pub fn is_python_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dg_config::Diagnostic;

    fn refusal(name: &str) -> String {
        let err = project_name(name).unwrap_err();
        format!("{err}\nhint: {}", err.hint().unwrap_or_default())
    }

    #[test]
    fn dashes_become_underscores() {
        let n = project_name("my-project-1").unwrap();
        assert_eq!(n.package, "my_project_1");
        assert_eq!(project_name("Data_Team").unwrap().package, "Data_Team");
    }

    #[test]
    fn refusals_say_why_and_suggest() {
        insta::assert_snapshot!(refusal("1st-project"), @r"
        `1st-project` cannot be used as a project name: it starts with a digit, and a Python package name cannot
        hint: Use a name such as `project-1st-project`: letters, digits, `-` and `_`, starting with a letter.
        ");
        insta::assert_snapshot!(refusal("class"), @r"
        `class` cannot be used as a project name: `class` is a Python keyword, so `import class` is a syntax error
        hint: Use a name such as `class-project`: letters, digits, `-` and `_`, starting with a letter.
        ");
        insta::assert_snapshot!(refusal("my.project"), @r"
        `my.project` cannot be used as a project name: it contains a dot, and a Python package name may only hold letters, digits and `_`
        hint: Use a name such as `my-project`: letters, digits, `-` and `_`, starting with a letter.
        ");
        insta::assert_snapshot!(refusal("my project"), @r"
        `my project` cannot be used as a project name: it contains a space, and a Python package name may only hold letters, digits and `_`
        hint: Use a name such as `my-project`: letters, digits, `-` and `_`, starting with a letter.
        ");
        insta::assert_snapshot!(refusal("proj$"), @r"
        `proj$` cannot be used as a project name: it contains the character `$`, and a Python package name may only hold letters, digits and `_`
        hint: Use a name such as `proj`: letters, digits, `-` and `_`, starting with a letter.
        ");
        insta::assert_snapshot!(refusal("dagster"), @r"
        `dagster` cannot be used as a project name: the package `dagster` would shadow the `dagster` package the project depends on
        hint: Use a name such as `dagster-project`.
        ");
        insta::assert_snapshot!(refusal("dagster-webserver"), @r"
        `dagster-webserver` cannot be used as a project name: the package `dagster_webserver` would shadow the `dagster_webserver` package the project depends on
        hint: Use a name such as `dagster-webserver-project`.
        ");
        insta::assert_snapshot!(refusal("json"), @r"
        `json` cannot be used as a project name: the package `json` would shadow the standard library module `json`
        hint: Use a name such as `json-project`.
        ");
        insta::assert_snapshot!(refusal("_private"), @r"
        `_private` cannot be used as a project name: it must start with a letter and end with a letter or digit
        hint: Use a name such as `private`: letters, digits, `-` and `_`, starting with a letter.
        ");
    }

    #[test]
    fn identifiers() {
        assert!(is_python_identifier("my_asset"));
        assert!(is_python_identifier("_x1"));
        assert!(!is_python_identifier("my-asset"));
        assert!(!is_python_identifier("1x"));
        assert!(!is_python_identifier("def"));
    }

    #[test]
    fn workspace_names() {
        assert_eq!(workspace_name("my.ws-1").unwrap(), "my.ws-1");
        assert!(workspace_name("my ws").is_err());
        assert!(workspace_name("-ws").is_err());
    }
}
