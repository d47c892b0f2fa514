-- 0051: every Parquet archive file is recorded, so a damaged, swapped, missing or stray file is an
-- error instead of wrong prices.
-- archive_files: one row per version of a file the workbench wrote, keyed by its path relative to the
-- archive root and the sha256 of its bytes, with what it holds (table, symbol, timeframe, month, row
-- count, first and last timestamp). `workbench archive` inserts the row (committed = FALSE) before it
-- moves the file into place, and commits it - dropping the path's other versions - in the transaction
-- that raises the table's archive watermark, i.e. the one that lets retention delete those rows.
-- Loads accept a file only if its bytes hash to a row of its path (committed, or written by a run
-- still in progress or killed between the move and its commit) and its contents are that partition's.
CREATE TABLE IF NOT EXISTS archive_files (
    path TEXT NOT NULL,                          -- e.g. candles/symbol=KRW-BTC/timeframe=1m/month=2025-01/part.parquet
    sha256 TEXT NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    table_name TEXT NOT NULL,                    -- the kind of data: candles, tickers, transactions, ...
    symbol TEXT NOT NULL,
    timeframe TEXT,                              -- NULL for tables without one
    month DATE NOT NULL,
    size_bytes BIGINT NOT NULL CHECK (size_bytes > 0),
    row_count BIGINT NOT NULL CHECK (row_count >= 0),
    min_time TIMESTAMP WITH TIME ZONE,
    max_time TIMESTAMP WITH TIME ZONE,
    committed BOOLEAN NOT NULL DEFAULT FALSE,
    recorded_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
    PRIMARY KEY (path, sha256)
);

-- a path has at most one committed version
CREATE UNIQUE INDEX IF NOT EXISTS archive_files_committed_path ON archive_files (path) WHERE committed;
CREATE INDEX IF NOT EXISTS archive_files_partition ON archive_files (table_name, symbol, timeframe, month);
