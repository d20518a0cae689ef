//! A Python exception raised by user code while loading, as the agent reports it, and how we show
//! it: the user's frames (file, line, code) and the error, with Dagster's, importlib's and the
//! agent's own frames folded away unless verbose; a syntax error shows the file, line and caret.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// One exception, with the exception that caused it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserError {
    /// `syntax`, `missing_module`, `import`, `no_definitions` or `exception`.
    pub kind: String,
    /// The exception type (`ModuleNotFoundError`, `my_project.errors.Bad`).
    pub exc_type: String,
    pub message: String,
    /// Outermost first, as Python prints them.
    pub frames: Vec<Frame>,
    /// The module that could not be found (`ModuleNotFoundError.name`).
    pub module_name: Option<String>,
    pub syntax: Option<SyntaxLocation>,
    /// `__cause__`, or `__context__` unless suppressed.
    pub cause: Option<Box<UserError>>,
}

/// One stack frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Frame {
    pub file: String,
    pub line: u32,
    pub function: String,
    pub code: Option<String>,
    /// `user`, `dagster`, `importlib` or `agent`.
    pub origin: String,
}

impl Frame {
    /// Whether this frame is the user's own code.
    pub fn is_user(&self) -> bool {
        self.origin == "user"
    }
}

/// Where a syntax error is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyntaxLocation {
    pub file: String,
    pub line: u32,
    /// 1-based column of the error.
    pub offset: Option<u32>,
    pub end_offset: Option<u32>,
    /// The offending line.
    pub text: Option<String>,
}

impl UserError {
    /// `file:line` of the place to fix: the syntax error's, else the innermost user frame of the
    /// innermost cause that has one.
    pub fn location(&self) -> Option<(String, u32)> {
        if let Some(s) = &self.syntax {
            return Some((s.file.clone(), s.line));
        }
        self.cause.as_ref().and_then(|c| c.location()).or_else(|| {
            self.frames
                .iter()
                .rev()
                .find(|f| f.is_user())
                .map(|f| (f.file.clone(), f.line))
        })
    }

    /// `Type: message`.
    pub fn summary(&self) -> String {
        if self.message.is_empty() {
            self.exc_type.clone()
        } else {
            format!("{}: {}", self.exc_type, self.message)
        }
    }

    /// The traceback as text, causes first like Python; non-user frames are folded unless `verbose`.
    pub fn render(&self, verbose: bool) -> String {
        let mut out = String::new();
        if let Some(cause) = &self.cause {
            out.push_str(&cause.render(verbose));
            out.push_str("\nThe above exception caused the following exception:\n\n");
        }
        if !self.frames.is_empty() {
            out.push_str("Traceback (most recent call last):\n");
        }
        let mut hidden = 0usize;
        let mut first_hint = true;
        let mut flush_hidden = |out: &mut String, hidden: &mut usize| {
            if *hidden > 0 {
                let more = if first_hint {
                    ", run with `--verbose` to see the full stack trace"
                } else {
                    ""
                };
                let _ = writeln!(out, "  [{hidden} system frames hidden{more}]");
                first_hint = false;
                *hidden = 0;
            }
        };
        for frame in &self.frames {
            if !verbose && !frame.is_user() {
                hidden += 1;
                continue;
            }
            flush_hidden(&mut out, &mut hidden);
            let _ = writeln!(
                out,
                "  File \"{}\", line {}, in {}",
                frame.file, frame.line, frame.function
            );
            if let Some(code) = &frame.code {
                let _ = writeln!(out, "    {}", code.trim());
            }
        }
        flush_hidden(&mut out, &mut hidden);
        if let Some(s) = &self.syntax {
            let _ = writeln!(out, "  File \"{}\", line {}", s.file, s.line);
            if let Some(text) = &s.text {
                let trimmed = text.trim_start();
                let indent = text.len() - trimmed.len();
                let _ = writeln!(out, "    {}", trimmed.trim_end());
                if let Some(offset) = s.offset.filter(|o| *o > 0) {
                    let start = (offset as usize).saturating_sub(1 + indent);
                    let width = s
                        .end_offset
                        .filter(|e| *e > offset)
                        .map_or(1, |e| (e - offset) as usize)
                        .min(trimmed.len().saturating_sub(start).max(1));
                    let _ = writeln!(out, "    {}{}", " ".repeat(start), "^".repeat(width));
                }
            }
        }
        let _ = writeln!(out, "{}", self.summary());
        out
    }

    /// The fix, phrased as an instruction.
    pub fn hint(&self, project_root: &std::path::Path) -> String {
        let innermost = self.innermost();
        let at = self
            .location()
            .map(|(f, l)| format!(" at `{f}:{l}`"))
            .unwrap_or_default();
        match innermost.kind.as_str() {
            "missing_module" => match &innermost.module_name {
                Some(name) => format!(
                    "If `{name}` is a package, add it to the dependencies of the project (`uv add {name}` in `{}`); if it is one of your modules, check its name{at}.",
                    project_root.display()
                ),
                None => format!("Fix the import{at}."),
            },
            "syntax" => format!("Fix the syntax error{at}, then run the command again."),
            "no_definitions" => "Define a `Definitions` object or a `@definitions` function in the target module, or put definitions in the defs folder.".into(),
            _ => format!("Fix the error{at}, then run the command again (add `--verbose` for the full traceback)."),
        }
    }

    fn innermost(&self) -> &UserError {
        // The root cause is the first in the chain Python prints; it usually names the real problem.
        let mut e = self;
        while let Some(c) = &e.cause {
            e = c;
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(file: &str, line: u32, origin: &str) -> Frame {
        Frame {
            file: file.into(),
            line,
            function: "f".into(),
            code: Some("x = 1".into()),
            origin: origin.into(),
        }
    }

    #[test]
    fn folds_system_frames_and_finds_user_line() {
        let err = UserError {
            kind: "exception".into(),
            exc_type: "ValueError".into(),
            message: "bad".into(),
            frames: vec![
                frame("/cache/dg/agent/0123/_dg_agent/load.py", 1, "agent"),
                frame("<frozen importlib._bootstrap>", 2, "importlib"),
                frame("/p/a.py", 3, "user"),
                frame("/venv/dagster/x.py", 4, "dagster"),
                frame("/p/b.py", 5, "user"),
            ],
            module_name: None,
            syntax: None,
            cause: None,
        };
        assert_eq!(err.location(), Some(("/p/b.py".into(), 5)));
        let short = err.render(false);
        assert!(short.contains("[2 system frames hidden, run with `--verbose`"));
        assert!(short.contains("[1 system frames hidden]"));
        assert!(short.ends_with("ValueError: bad\n"));
        assert!(err.render(true).contains("/venv/dagster/x.py"));
    }

    #[test]
    fn syntax_error_shows_caret() {
        let err = UserError {
            kind: "syntax".into(),
            exc_type: "SyntaxError".into(),
            message: "invalid syntax".into(),
            frames: vec![],
            module_name: None,
            syntax: Some(SyntaxLocation {
                file: "/p/a.py".into(),
                line: 3,
                offset: Some(11),
                end_offset: Some(12),
                text: Some("    def f(:".into()),
            }),
            cause: None,
        };
        let text = err.render(false);
        assert!(
            text.contains("line 3\n    def f(:\n          ^\n"),
            "{text}"
        );
    }
}
