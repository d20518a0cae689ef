//! The table form of `dg list defs`: Dagster's sections (Assets, Asset Checks, Jobs, Schedules,
//! Sensors, Resources), each an inner table of the columns that apply to that kind, inside an
//! outer `Section | Definitions` table. `--columns` takes Dagster's names (`name` means `key`,
//! singular forms such as `kind` are accepted); `key` always comes first. From a workspace root a
//! `Location` column follows the key.

use crate::defs_listing::{user_tags, Listing};
use crate::error::{CliError, CliResult};
use crate::table::{truncate, Table};

/// A column of the inner tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Key,
    Location,
    Group,
    Deps,
    Kinds,
    Description,
    Tags,
    Cron,
    IsExecutable,
}

/// Dagster's default columns.
pub const DEFAULT_COLUMNS: [Column; 6] = [
    Column::Key,
    Column::Group,
    Column::Deps,
    Column::Kinds,
    Column::Description,
    Column::Cron,
];

const NAMES: [(&str, Column); 8] = [
    ("key", Column::Key),
    ("group", Column::Group),
    ("deps", Column::Deps),
    ("kinds", Column::Kinds),
    ("description", Column::Description),
    ("tags", Column::Tags),
    ("cron", Column::Cron),
    ("is_executable", Column::IsExecutable),
];

/// Descriptions longer than this are cut with `…`, as Dagster does.
const DESCRIPTION_WIDTH: usize = 100;

impl Column {
    fn header(self) -> &'static str {
        match self {
            Column::Key => "Key",
            Column::Location => "Location",
            Column::Group => "Group",
            Column::Deps => "Deps",
            Column::Kinds => "Kinds",
            Column::Description => "Description",
            Column::Tags => "Tags",
            Column::Cron => "Cron",
            Column::IsExecutable => "Is executable",
        }
    }
}

/// The columns `--columns` asks for (comma-separated values, or the flag repeated), `key` first.
pub fn parse_columns(values: &[String]) -> CliResult<Vec<Column>> {
    if values.is_empty() {
        return Ok(DEFAULT_COLUMNS.to_vec());
    }
    let mut columns = Vec::new();
    for name in values.iter().flat_map(|v| v.split(',')) {
        let name = name.trim().to_lowercase();
        if name.is_empty() {
            continue;
        }
        let name = if name == "name" { "key".into() } else { name };
        let plural = format!("{name}s");
        let column = NAMES
            .iter()
            .find(|(n, _)| *n == name || *n == plural)
            .map(|(_, c)| *c)
            .ok_or_else(|| {
                CliError::usage(format!("Unknown column `{name}` in `--columns`")).with_hint(
                    format!(
                        "Available columns: {}.",
                        NAMES.map(|(n, _)| format!("`{n}`")).join(", ")
                    ),
                )
            })?;
        if !columns.contains(&column) {
            columns.push(column);
        }
    }
    if !columns.contains(&Column::Key) {
        columns.insert(0, Column::Key);
    }
    Ok(columns)
}

/// Renders the listing: the outer table of sections, or Dagster's sentence when it is empty.
pub fn render(listing: &Listing<'_>, columns: &[Column], with_location: bool) -> String {
    if listing.is_empty() {
        return "No definitions are defined for this project.".into();
    }
    let mut columns = columns.to_vec();
    if with_location {
        let at = columns
            .iter()
            .position(|c| *c == Column::Key)
            .map_or(0, |i| i + 1);
        columns.insert(at, Column::Location);
    }
    let mut outer = Table::new(["Section", "Definitions"]);
    let mut section = |name: &str, supported: &[Column], rows: Vec<Row>| {
        if rows.is_empty() {
            return;
        }
        let cols: Vec<Column> = columns
            .iter()
            .copied()
            .filter(|c| supported.contains(c))
            .collect();
        let mut inner = Table::new(cols.iter().map(|c| c.header())).show_lines(true);
        inner.set_max_width(cols.len() - 1, 100);
        for row in rows {
            inner.add_row(cols.iter().map(|c| row.get(*c)));
        }
        outer.add_row([name.to_string(), inner.render()]);
    };
    use Column as C;
    section(
        "Assets",
        &[
            C::Key,
            C::Location,
            C::Group,
            C::Deps,
            C::Kinds,
            C::Description,
            C::Tags,
            C::IsExecutable,
        ],
        listing
            .assets
            .iter()
            .map(|a| {
                let asset = a.item;
                Row::new(asset.key_string(), a.location)
                    .with(C::Group, asset.group_name.clone())
                    .with(
                        C::Deps,
                        joined(asset.deps.iter().map(|d| d.to_user_string())),
                    )
                    .with(C::Kinds, asset.kinds.join("\n"))
                    .with(C::Description, description(asset.description.as_deref()))
                    .with(
                        C::Tags,
                        joined(
                            user_tags(asset)
                                .into_iter()
                                .map(|(k, v)| format!("\"{k}\"=\"{v}\"")),
                        ),
                    )
                    .with(
                        C::IsExecutable,
                        if asset.is_executable { "True" } else { "False" }.into(),
                    )
            })
            .collect(),
    );
    section(
        "Asset Checks",
        &[C::Key, C::Location, C::Deps, C::Description],
        listing
            .asset_checks
            .iter()
            .map(|c| {
                Row::new(c.item.key_string(), c.location)
                    .with(
                        C::Deps,
                        joined(c.item.additional_deps.iter().map(|d| d.to_user_string())),
                    )
                    .with(C::Description, description(c.item.description.as_deref()))
            })
            .collect(),
    );
    section(
        "Jobs",
        &[C::Key, C::Location, C::Description],
        listing
            .jobs
            .iter()
            .map(|j| {
                Row::new(j.item.name.clone(), j.location)
                    .with(C::Description, description(j.item.description.as_deref()))
            })
            .collect(),
    );
    section(
        "Schedules",
        &[C::Key, C::Location, C::Cron],
        listing
            .schedules
            .iter()
            .map(|s| {
                Row::new(s.item.name.clone(), s.location)
                    .with(C::Cron, s.item.cron_schedule.join(", "))
            })
            .collect(),
    );
    section(
        "Sensors",
        &[C::Key, C::Location],
        listing
            .sensors
            .iter()
            .map(|s| Row::new(s.item.name.clone(), s.location))
            .collect(),
    );
    section(
        "Resources",
        &[C::Key, C::Location],
        listing
            .resources
            .iter()
            .map(|r| Row::new(r.item.name.clone(), r.location))
            .collect(),
    );
    outer.render()
}

/// The cells of one inner row, by column.
struct Row(Vec<(Column, String)>);

impl Row {
    fn new(key: String, location: &str) -> Self {
        Row(vec![
            (Column::Key, key),
            (Column::Location, location.to_string()),
        ])
    }

    fn with(mut self, column: Column, value: String) -> Self {
        self.0.push((column, value));
        self
    }

    fn get(&self, column: Column) -> String {
        self.0
            .iter()
            .find(|(c, _)| *c == column)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

fn joined(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join("\n")
}

fn description(text: Option<&str>) -> String {
    text.map(|t| truncate(t, DESCRIPTION_WIDTH))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn columns_like_dagster() {
        assert_eq!(parse_columns(&[]).unwrap(), DEFAULT_COLUMNS.to_vec());
        assert_eq!(
            parse_columns(&strings(&["kind,tag"])).unwrap(),
            vec![Column::Key, Column::Kinds, Column::Tags]
        );
        assert_eq!(
            parse_columns(&strings(&["group", "NAME"])).unwrap(),
            vec![Column::Group, Column::Key]
        );
        let err = parse_columns(&strings(&["colour"])).unwrap_err();
        assert_eq!(err.code, 2);
        assert!(err.hint.unwrap().contains("`is_executable`"));
    }
}
