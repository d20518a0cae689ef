//! A project's `.env` file: `KEY=value` lines loaded into every process of the project, parsed the
//! way Dagster's `python-dotenv` does: `export` prefixes, `#` comments, single quotes (literal),
//! double quotes (escapes, may span lines), unquoted values (trimmed, spaces allowed, ` #` starts a
//! comment), and `${VAR}` / `${VAR:-default}` expanded in unquoted and double-quoted values from
//! earlier lines, then the host's environment. Lines it cannot parse are skipped with a warning
//! naming the file and line, as `python-dotenv` skips them.

use std::path::{Path, PathBuf};

use crate::error::PythonError;

/// The variables of one `.env` file, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DotEnv {
    /// The file they came from (`None` when the project has no `.env`).
    pub path: Option<PathBuf>,
    vars: Vec<(String, String)>,
    /// One message per skipped line (`.env:3: ...`).
    pub warnings: Vec<String>,
}

impl DotEnv {
    /// Reads `path`; a missing file is an empty `.env`, an unreadable one an error naming the project.
    pub fn load(project: &str, path: &Path) -> Result<Self, PythonError> {
        if !path.is_file() {
            return Ok(Self::default());
        }
        let text = std::fs::read_to_string(path).map_err(|e| PythonError::DotEnv {
            project: project.to_owned(),
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let mut env = parse(&text, path);
        env.path = Some(path.to_path_buf());
        Ok(env)
    }

    /// The value of `key`, if the file sets it to something non-empty (the last line wins).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.lookup(key).filter(|v| !v.is_empty())
    }

    fn lookup(&self, key: &str) -> Option<&str> {
        self.vars
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every variable, in file order.
    pub fn vars(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Parses the text of a `.env` file (`path` is only used in warnings).
pub fn parse(text: &str, path: &Path) -> DotEnv {
    let mut env = DotEnv::default();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut line = 1;
    while i < chars.len() {
        let start_line = line;
        let end = chars[i..]
            .iter()
            .position(|c| *c == '\n')
            .map_or(chars.len(), |p| i + p);
        let raw: String = chars[i..end].iter().collect();
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i = end + 1;
            line += 1;
            continue;
        }
        let body = trimmed
            .strip_prefix("export ")
            .unwrap_or(trimmed)
            .trim_start();
        let Some(eq) = body.find('=') else {
            env.warnings.push(format!(
                "{}:{start_line}: skipped a line without `=`",
                path.display()
            ));
            i = end + 1;
            line += 1;
            continue;
        };
        let key = body[..eq].trim().to_owned();
        if key.is_empty() || key.contains(char::is_whitespace) {
            env.warnings.push(format!(
                "{}:{start_line}: skipped a line with an invalid name `{key}`",
                path.display()
            ));
            i = end + 1;
            line += 1;
            continue;
        }
        // Position of the value in `chars`: after the `=` (skipping spaces).
        let value_offset = raw.find(body).unwrap_or(0) + eq + 1;
        let mut j = i + raw[..value_offset].chars().count();
        while j < end && (chars[j] == ' ' || chars[j] == '\t') {
            j += 1;
        }
        let quote = chars.get(j).copied().filter(|c| *c == '\'' || *c == '"');
        let value = if let Some(q) = quote {
            let mut k = j + 1;
            let mut out = String::new();
            let mut closed = false;
            while k < chars.len() {
                let c = chars[k];
                if c == '\\' && q == '"' && k + 1 < chars.len() {
                    let next = chars[k + 1];
                    out.push(match next {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        other => other,
                    });
                    k += 2;
                    continue;
                }
                if c == '\\' && q == '\'' && chars.get(k + 1) == Some(&'\'') {
                    out.push('\'');
                    k += 2;
                    continue;
                }
                if c == q {
                    closed = true;
                    break;
                }
                if c == '\n' {
                    line += 1;
                }
                out.push(c);
                k += 1;
            }
            if !closed {
                env.warnings.push(format!(
                    "{}:{start_line}: skipped a value with no closing {q}",
                    path.display()
                ));
                break;
            }
            let rest_end = chars[k..]
                .iter()
                .position(|c| *c == '\n')
                .map_or(chars.len(), |p| k + p);
            i = rest_end + 1;
            line += 1;
            if q == '"' {
                expand(&out, &env)
            } else {
                out
            }
        } else {
            let mut value: String = chars[j..end].iter().collect();
            if let Some(pos) = value.find(" #") {
                value.truncate(pos);
            }
            i = end + 1;
            line += 1;
            expand(value.trim(), &env)
        };
        env.vars.push((key, value));
    }
    env
}

/// Expands `${VAR}` and `${VAR:-default}` from earlier lines, then the host's environment.
fn expand(value: &str, env: &DotEnv) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        out.push_str(&rest[..start]);
        let inner = &rest[start + 2..start + len];
        let (name, default) = inner.split_once(":-").unwrap_or((inner, ""));
        let found = env
            .lookup(name)
            .map(str::to_owned)
            .or_else(|| std::env::var(name).ok())
            .unwrap_or_else(|| default.to_owned());
        out.push_str(&found);
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(text: &str) -> DotEnv {
        parse(text, Path::new(".env"))
    }

    #[test]
    fn parses_like_python_dotenv() {
        let e = env(concat!(
            "# comment\n",
            "A=1\n",
            "export B='two words'\n",
            "C = hello from .env # trailing comment\n",
            "D=\"line\\nbreak ${A}\"\n",
            "E='${A} stays'\n",
            "F=${MISSING_VAR_FOR_TEST:-fallback}\n",
            "G=\"multi\n",
            "line\"\n",
            "A=3\n",
            "EMPTY=\n",
        ));
        assert_eq!(e.get("A"), Some("3"));
        assert_eq!(e.get("B"), Some("two words"));
        assert_eq!(e.get("C"), Some("hello from .env"));
        assert_eq!(e.get("D"), Some("line\nbreak 1"));
        assert_eq!(e.get("E"), Some("${A} stays"));
        assert_eq!(e.get("F"), Some("fallback"));
        assert_eq!(e.get("G"), Some("multi\nline"));
        assert_eq!(e.get("EMPTY"), None);
        assert_eq!(e.vars().count(), 9);
        assert!(e.warnings.is_empty(), "{:?}", e.warnings);
    }

    #[test]
    fn bad_lines_are_skipped_with_file_and_line() {
        let e = env("A=1\nnot a pair\nB='open\n");
        assert_eq!(e.get("A"), Some("1"));
        assert_eq!(e.warnings.len(), 2, "{:?}", e.warnings);
        assert!(e.warnings[0].starts_with(".env:2:"), "{:?}", e.warnings);
        assert!(e.warnings[1].starts_with(".env:3:"), "{:?}", e.warnings);
    }

    #[test]
    fn missing_file_is_empty() {
        let env = DotEnv::load("p", Path::new("/nonexistent/.env")).unwrap();
        assert_eq!(env, DotEnv::default());
    }
}
