//! The templates of every file we generate, embedded in the binary at build time (the sources live
//! in `crates/dg-scaffold/templates/`), rendered with minijinja.
//!
//! Rendering is pure: it returns text and never touches the disk, so callers can render a whole
//! layout first and write it only once nothing can fail any more.

use minijinja::{Environment, UndefinedBehavior, Value};

use crate::error::ScaffoldError;

/// (template name, source) for every embedded template.
const TEMPLATES: &[(&str, &str)] = &[
    ("gitignore", include_str!("../templates/gitignore.jinja")),
    (
        "project/pyproject.toml",
        include_str!("../templates/project/pyproject.toml.jinja"),
    ),
    (
        "project/README.md",
        include_str!("../templates/project/README.md.jinja"),
    ),
    (
        "project/definitions.py",
        include_str!("../templates/project/definitions.py.jinja"),
    ),
    (
        "workspace/dg.toml",
        include_str!("../templates/workspace/dg.toml.jinja"),
    ),
    (
        "workspace/pyproject.toml",
        include_str!("../templates/workspace/pyproject.toml.jinja"),
    ),
    (
        "workspace/README.md",
        include_str!("../templates/workspace/README.md.jinja"),
    ),
    (
        "defs/asset.py",
        include_str!("../templates/defs/asset.py.jinja"),
    ),
    (
        "defs/asset_check.py",
        include_str!("../templates/defs/asset_check.py.jinja"),
    ),
    (
        "defs/multi_asset.py",
        include_str!("../templates/defs/multi_asset.py.jinja"),
    ),
    (
        "defs/job.py",
        include_str!("../templates/defs/job.py.jinja"),
    ),
    (
        "defs/schedule.py",
        include_str!("../templates/defs/schedule.py.jinja"),
    ),
    (
        "defs/sensor.py",
        include_str!("../templates/defs/sensor.py.jinja"),
    ),
    (
        "defs/resources.py",
        include_str!("../templates/defs/resources.py.jinja"),
    ),
];

/// Renders the embedded template `name` with `ctx`. A variable missing from `ctx` is an error,
/// never an empty string in a user's file.
pub fn render(name: &str, ctx: Value) -> Result<String, ScaffoldError> {
    let fail = |source| ScaffoldError::Template {
        name: name.to_owned(),
        source,
    };
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Keep the final newline of each template source: generated files end with one.
    env.set_keep_trailing_newline(true);
    let source = TEMPLATES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| *s)
        .ok_or_else(|| {
            fail(minijinja::Error::new(
                minijinja::ErrorKind::TemplateNotFound,
                "not embedded",
            ))
        })?;
    env.add_template(name, source).map_err(fail)?;
    env.get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        for (name, source) in TEMPLATES {
            let mut env = Environment::new();
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn missing_variable_is_an_error() {
        let err = render("project/README.md", minijinja::context! {}).unwrap_err();
        assert!(matches!(err, ScaffoldError::Template { .. }), "{err:?}");
    }
}
