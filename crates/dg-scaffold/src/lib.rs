//! Templates and format-preserving edits for create-dagster and dg scaffold.
