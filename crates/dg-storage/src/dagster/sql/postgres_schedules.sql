-- dagster-postgres 0.29.27's schedule storage (created when neither `schedules` nor `jobs` exists), PostgreSQL, revision 29b539ebc72a:
-- the tables of `sqlite_schedules.sql` with PostgreSQL's types (BIGSERIAL ids, BIGINT storage ids,
-- TIMESTAMP WITHOUT TIME ZONE, DOUBLE PRECISION, BYTEA, boolean defaults), checked against
-- `pg_dump --schema-only` of a database real dagster-postgres initialised.

CREATE TABLE jobs (
    id BIGSERIAL NOT NULL,
    job_origin_id VARCHAR(255),
    selector_id VARCHAR(255),
    repository_origin_id VARCHAR(255),
    status VARCHAR(63),
    job_type VARCHAR(63),
    job_body TEXT,
    create_timestamp TIMESTAMP WITHOUT TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    update_timestamp TIMESTAMP WITHOUT TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (id),
    UNIQUE (job_origin_id)
);

CREATE INDEX ix_jobs_job_type ON jobs (job_type);

CREATE TABLE instigators (
    id BIGSERIAL NOT NULL,
    selector_id VARCHAR(255),
    repository_selector_id VARCHAR(255),
    status VARCHAR(63),
    instigator_type VARCHAR(63),
    instigator_body TEXT,
    create_timestamp TIMESTAMP WITHOUT TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    update_timestamp TIMESTAMP WITHOUT TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (id),
    UNIQUE (selector_id)
);

CREATE INDEX ix_instigators_instigator_type ON instigators (instigator_type);

CREATE TABLE job_ticks (
    id BIGSERIAL NOT NULL,
    job_origin_id VARCHAR(255),
    selector_id VARCHAR(255),
    status VARCHAR(63),
    type VARCHAR(63),
    timestamp TIMESTAMP WITHOUT TIME ZONE,
    tick_body TEXT,
    create_timestamp TIMESTAMP WITHOUT TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    update_timestamp TIMESTAMP WITHOUT TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (id)
);

CREATE INDEX idx_job_tick_status ON job_ticks (job_origin_id, status);

CREATE INDEX idx_job_tick_timestamp ON job_ticks (job_origin_id, timestamp);

CREATE INDEX idx_tick_selector_timestamp ON job_ticks (selector_id, timestamp);

CREATE INDEX ix_job_ticks_job_origin_id ON job_ticks (job_origin_id);

CREATE TABLE asset_daemon_asset_evaluations (
    id BIGSERIAL NOT NULL,
    evaluation_id BIGINT,
    asset_key TEXT,
    asset_evaluation_body TEXT,
    num_requested INTEGER,
    num_skipped INTEGER,
    num_discarded INTEGER,
    create_timestamp TIMESTAMP WITHOUT TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (id)
);

CREATE INDEX ix_asset_daemon_asset_evaluations_evaluation_id ON asset_daemon_asset_evaluations (evaluation_id);

CREATE UNIQUE INDEX idx_asset_daemon_asset_evaluations_asset_key_evaluation_id ON asset_daemon_asset_evaluations (asset_key, evaluation_id);

CREATE TABLE IF NOT EXISTS secondary_indexes (
    id BIGSERIAL NOT NULL,
    name VARCHAR(512),
    create_timestamp TIMESTAMP WITHOUT TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    migration_completed TIMESTAMP WITHOUT TIME ZONE,
    PRIMARY KEY (id),
    UNIQUE (name)
);
