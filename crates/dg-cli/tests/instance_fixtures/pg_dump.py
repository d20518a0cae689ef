"""Every table, column, constraint, index and row of a PostgreSQL database, as one JSON line.

    python pg_dump.py <libpq URL>

{"schema": {"<table>": ["column ...", "constraint ...", "index ..."]}, "rows": {"<table>": [...]}}
Rows are JSON texts of their values (bytes as hex, times as text), sorted, so two dumps compare
row by row.
"""

import json
import sys

import psycopg2

conn = psycopg2.connect(sys.argv[1])
cur = conn.cursor()


def lines(sql):
    cur.execute(sql)
    return cur.fetchall()


schema = {}
for table, line in lines(
    "SELECT table_name, format('column %s %s %s null=%s default=%s', column_name, data_type, "
    "coalesce(character_maximum_length, 0), is_nullable, coalesce(column_default, '')) "
    "FROM information_schema.columns WHERE table_schema = 'public'"
):
    schema.setdefault(table, []).append(line)
for table, line in lines(
    "SELECT conrelid::regclass::text, format('constraint %s %s', conname, pg_get_constraintdef(oid)) "
    "FROM pg_constraint WHERE connamespace = 'public'::regnamespace"
):
    schema.setdefault(table, []).append(line)
for table, line in lines(
    "SELECT tablename, format('index %s %s', indexname, indexdef) FROM pg_indexes "
    "WHERE schemaname = 'public'"
):
    schema.setdefault(table, []).append(line)
for table in schema:
    schema[table].sort()


def value(v):
    if isinstance(v, (bytes, memoryview)):
        return bytes(v).hex()
    if isinstance(v, (int, float, str, bool)) or v is None:
        return v
    return str(v)


rows = {}
tables = [t for (t,) in lines("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
for table in tables:
    cur.execute(f'SELECT * FROM "{table}"')
    names = [d[0] for d in cur.description]
    rows[table] = sorted(
        json.dumps(dict(zip(names, map(value, row))), sort_keys=True) for row in cur.fetchall()
    )
print(json.dumps({"schema": schema, "rows": rows}))
