//! Box-drawn tables in the style Dagster's `dg` prints with Rich (a heavy header, light body),
//! including tables nested in a cell, so that `dg list defs` looks the same as Dagster's.
//!
//! Cells are text that may span several lines; a column can have a maximum width, beyond which its
//! lines are wrapped (at spaces when possible). Widths count terminal columns (`unicode-width`).
//! Unlike Rich, tables are never squeezed to the terminal's width: they keep their natural width
//! (scripts should use `--json`).

use unicode_width::UnicodeWidthStr;

/// A table: a header row and body rows of the same number of cells.
#[derive(Debug, Clone, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    max_widths: Vec<Option<usize>>,
    show_lines: bool,
}

impl Table {
    /// A table with these column headers.
    pub fn new<S: Into<String>>(headers: impl IntoIterator<Item = S>) -> Self {
        let headers: Vec<String> = headers.into_iter().map(Into::into).collect();
        let max_widths = vec![None; headers.len()];
        Self {
            headers,
            rows: Vec::new(),
            max_widths,
            show_lines: false,
        }
    }

    /// Draws a line between body rows.
    #[must_use]
    pub fn show_lines(mut self, show: bool) -> Self {
        self.show_lines = show;
        self
    }

    /// Wraps the lines of column `index` at `width` columns.
    pub fn set_max_width(&mut self, index: usize, width: usize) {
        if let Some(slot) = self.max_widths.get_mut(index) {
            *slot = Some(width.max(1));
        }
    }

    /// Adds a row; missing cells are empty, extra cells are ignored.
    pub fn add_row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        let mut row: Vec<String> = cells.into_iter().map(Into::into).collect();
        row.resize(self.headers.len(), String::new());
        self.rows.push(row);
    }

    /// Whether the table has no body rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text, lines separated by `\n`, without a trailing newline.
    pub fn render(&self) -> String {
        let cells: Vec<Vec<Vec<String>>> = self
            .rows
            .iter()
            .map(|row| {
                row.iter()
                    .enumerate()
                    .map(|(i, cell)| cell_lines(cell, self.max_widths[i]))
                    .collect()
            })
            .collect();
        let widths: Vec<usize> = (0..self.headers.len())
            .map(|i| {
                let body = cells
                    .iter()
                    .flat_map(|row| row[i].iter())
                    .map(|l| l.width())
                    .max()
                    .unwrap_or(0);
                // Body lines are already wrapped to the maximum (nested tables are not).
                body.max(self.headers[i].width())
            })
            .collect();
        let rule = |left: &str, fill: &str, mid: &str, right: &str| {
            let parts: Vec<String> = widths.iter().map(|w| fill.repeat(w + 2)).collect();
            format!("{left}{}{right}", parts.join(mid))
        };
        let line = |edge: &str, sep: &str, texts: &[&str]| {
            let parts: Vec<String> = texts
                .iter()
                .zip(&widths)
                .map(|(t, w)| format!(" {t}{} ", " ".repeat(w.saturating_sub(t.width()))))
                .collect();
            format!("{edge}{}{edge}", parts.join(sep))
        };
        let mut out = vec![rule("┏", "━", "┳", "┓")];
        let headers: Vec<&str> = self.headers.iter().map(String::as_str).collect();
        out.push(line("┃", "┃", &headers));
        out.push(rule("┡", "━", "╇", "┩"));
        for (r, row) in cells.iter().enumerate() {
            if r > 0 && self.show_lines {
                out.push(rule("├", "─", "┼", "┤"));
            }
            let height = row.iter().map(Vec::len).max().unwrap_or(1).max(1);
            for l in 0..height {
                let texts: Vec<&str> = row
                    .iter()
                    .map(|c| c.get(l).map_or("", String::as_str))
                    .collect();
                out.push(line("│", "│", &texts));
            }
        }
        out.push(rule("└", "─", "┴", "┘"));
        out.join("\n")
    }
}

/// Truncates `text` to `width` columns, ending in `…` when cut (Rich's `overflow="ellipsis"`).
pub fn truncate(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    let mut out = String::new();
    for c in text.chars() {
        if (out.as_str().width() + c.to_string().width()) >= width {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

fn cell_lines(cell: &str, max: Option<usize>) -> Vec<String> {
    if cell.is_empty() {
        return Vec::new();
    }
    cell.lines()
        .flat_map(|line| match max {
            Some(max) if line.width() > max && !is_drawing(line) => wrap(line, max),
            _ => vec![line.to_string()],
        })
        .collect()
}

/// Lines of a nested table are never wrapped.
fn is_drawing(line: &str) -> bool {
    line.starts_with(['┏', '┃', '┡', '│', '├', '└'])
}

/// Wraps at spaces where possible, else hard at `width`.
fn wrap(line: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for word in line.split(' ') {
        let candidate = if current.is_empty() {
            word.to_string()
        } else {
            format!("{current} {word}")
        };
        if candidate.width() <= width {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        let mut rest = word.to_string();
        while rest.width() > width {
            let cut: String = take_width(&rest, width);
            rest = rest[cut.len()..].to_string();
            out.push(cut);
        }
        current = rest;
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn take_width(text: &str, width: usize) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if out.as_str().width() + c.to_string().width() > width {
            break;
        }
        out.push(c);
    }
    if out.is_empty() {
        text.chars().take(1).collect()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heavy_header_light_body_with_lines() {
        let mut t = Table::new(["Key", "Deps"]).show_lines(true);
        t.add_row(["a", ""]);
        t.add_row(["bb", "a\nc"]);
        assert_eq!(
            t.render(),
            "┏━━━━━┳━━━━━━┓\n\
             ┃ Key ┃ Deps ┃\n\
             ┡━━━━━╇━━━━━━┩\n\
             │ a   │      │\n\
             ├─────┼──────┤\n\
             │ bb  │ a    │\n\
             │     │ c    │\n\
             └─────┴──────┘"
        );
    }

    #[test]
    fn nested_tables_keep_their_shape() {
        let mut inner = Table::new(["Key"]);
        inner.add_row(["x"]);
        let mut outer = Table::new(["Section", "Definitions"]);
        outer.set_max_width(1, 3);
        outer.add_row(["Assets".to_string(), inner.render()]);
        let text = outer.render();
        assert!(text.contains("│ Assets  │ ┏━━━━━┓     │"), "{text}");
    }

    #[test]
    fn wraps_and_truncates() {
        assert_eq!(wrap("aaa bbb cccccc", 4), ["aaa", "bbb", "cccc", "cc"]);
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abcd", 4), "abcd");
    }
}
