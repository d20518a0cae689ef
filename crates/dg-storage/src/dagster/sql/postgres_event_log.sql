-- dagster-postgres 0.29.27's event log storage (created when `event_logs` is missing), PostgreSQL, revision 29b539ebc72a:
-- the tables of `sqlite_event_log.sql` with PostgreSQL's types (BIGSERIAL ids, BIGINT storage ids,
-- TIMESTAMP WITHOUT TIME ZONE, DOUBLE PRECISION, BYTEA, boolean defaults), checked against
-- `pg_dump --schema-only` of a database real dagster-postgres initialised.

CREATE TABLE event_logs (
    id BIGSERIAL NOT NULL,
    run_id VARCHAR(255),
    event TEXT NOT NULL,
    dagster_event_type TEXT,
    timestamp TIMESTAMP WITHOUT TIME ZONE,
    step_key TEXT,
    asset_key TEXT,
    partition TEXT,
    PRIMARY KEY (id)
);

CREATE INDEX idx_events_by_run_id ON event_logs (run_id, id);

CREATE INDEX idx_events_by_asset_partition ON event_logs (asset_key, dagster_event_type, partition, id) WHERE asset_key IS NOT NULL AND partition IS NOT NULL;

CREATE INDEX idx_events_by_asset ON event_logs (asset_key, dagster_event_type, id) WHERE asset_key IS NOT NULL;

CREATE INDEX idx_event_type ON event_logs (dagster_event_type, id);

CREATE INDEX idx_step_key ON event_logs (step_key);

CREATE TABLE IF NOT EXISTS secondary_indexes (
    id BIGSERIAL NOT NULL,
    name VARCHAR(512),
    create_timestamp TIMESTAMP WITHOUT TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    migration_completed TIMESTAMP WITHOUT TIME ZONE,
    PRIMARY KEY (id),
    UNIQUE (name)
);

CREATE TABLE asset_keys (
    id BIGSERIAL NOT NULL,
    asset_key VARCHAR(512),
    last_materialization TEXT,
    last_run_id VARCHAR(255),
    asset_details TEXT,
    wipe_timestamp TIMESTAMP WITHOUT TIME ZONE,
    last_materialization_timestamp TIMESTAMP WITHOUT TIME ZONE,
    tags TEXT,
    create_timestamp TIMESTAMP WITHOUT TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    cached_status_data TEXT,
    PRIMARY KEY (id),
    UNIQUE (asset_key)
);

CREATE TABLE asset_event_tags (
    id BIGSERIAL NOT NULL,
    event_id BIGINT,
    asset_key TEXT NOT NULL,
    "key" TEXT NOT NULL,
    value TEXT,
    event_timestamp TIMESTAMP WITHOUT TIME ZONE,
    PRIMARY KEY (id)
);

CREATE INDEX idx_asset_event_tags_event_id ON asset_event_tags (event_id);

CREATE INDEX idx_asset_event_tags ON asset_event_tags (asset_key, "key", value);

CREATE TABLE dynamic_partitions (
    id BIGSERIAL NOT NULL,
    partitions_def_name TEXT NOT NULL,
    partition TEXT NOT NULL,
    create_timestamp TIMESTAMP WITHOUT TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (id)
);

CREATE UNIQUE INDEX idx_dynamic_partitions ON dynamic_partitions (partitions_def_name, partition);

CREATE TABLE concurrency_limits (
    id BIGSERIAL NOT NULL,
    concurrency_key VARCHAR(512) NOT NULL,
    "limit" INTEGER NOT NULL,
    using_default_limit BOOLEAN DEFAULT false NOT NULL,
    update_timestamp TIMESTAMP WITHOUT TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    create_timestamp TIMESTAMP WITHOUT TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (id),
    UNIQUE (concurrency_key)
);

CREATE TABLE concurrency_slots (
    id BIGSERIAL NOT NULL,
    concurrency_key TEXT NOT NULL,
    run_id TEXT,
    step_key TEXT,
    deleted BOOLEAN NOT NULL,
    create_timestamp TIMESTAMP WITHOUT TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (id)
);

CREATE TABLE pending_steps (
    id BIGSERIAL NOT NULL,
    concurrency_key TEXT NOT NULL,
    run_id TEXT,
    step_key TEXT,
    priority INTEGER,
    assigned_timestamp TIMESTAMP WITHOUT TIME ZONE,
    create_timestamp TIMESTAMP WITHOUT TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (id)
);

CREATE UNIQUE INDEX idx_pending_steps ON pending_steps (concurrency_key, run_id, step_key);

CREATE TABLE asset_check_executions (
    id BIGSERIAL NOT NULL,
    asset_key TEXT,
    check_name TEXT,
    partition TEXT,
    run_id VARCHAR(255),
    execution_status VARCHAR(255),
    evaluation_event TEXT,
    evaluation_event_timestamp TIMESTAMP WITHOUT TIME ZONE,
    evaluation_event_storage_id BIGINT,
    materialization_event_storage_id BIGINT,
    create_timestamp TIMESTAMP WITHOUT TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (id)
);

CREATE UNIQUE INDEX idx_asset_check_executions_unique ON asset_check_executions (asset_key, check_name, run_id, partition);

CREATE INDEX idx_asset_check_executions ON asset_check_executions (asset_key, check_name, materialization_event_storage_id, partition);
