-- 0011: cache integrity (not in shared/schema.md).
-- data_versions: one counter per (table, symbol), bumped by every write that changes rows, in the
-- write's own transaction; cached frames are keyed by it, so a load never returns a frame older
-- than the database. workbench_secrets: the random HMAC key that signs cached values (it lives
-- with the database, never derived from its URL).

CREATE TABLE IF NOT EXISTS data_versions (
    table_name VARCHAR(40) NOT NULL,
    symbol VARCHAR(20) NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    changed_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    PRIMARY KEY (table_name, symbol)
);

CREATE TABLE IF NOT EXISTS workbench_secrets (
    name VARCHAR(40) PRIMARY KEY,
    value TEXT NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);
