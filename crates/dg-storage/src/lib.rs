//! Run, event and schedule storage: SQLite and PostgreSQL.
