-- 0052: the database is the source of truth for every reader of candles. A change to candles made
-- by any SQL client (INSERT, UPDATE, DELETE, MERGE, COPY, TRUNCATE; psql, another tool) bumps the
-- data version of the symbols it touched (data_versions, migration 0011: cached frames are keyed by
-- it) and keeps the 1m rollups (migration 0005) right, in the changing transaction.
--   * plain PostgreSQL: statement-level triggers with transition tables; the 5m..1d buckets that
--     hold a changed 1m row are recomputed (each from the level below, as 0005 does) and buckets
--     left without minutes are deleted.
--   * TimescaleDB (hypertables have no transition tables): a row-level trigger collects the changed
--     keys, a statement-level one bumps the versions and records the changed 1m range per symbol in
--     candle_rollup_stale; the loader refreshes the continuous aggregates over that range before it
--     reads them (a refresh cannot run inside the changing transaction).
--   * TRUNCATE: every symbol's version is bumped and the rollups are emptied.
-- The workbench's own writers maintain versions and rollups themselves: they mark their transaction
-- with set_config('workbench.candles_maintained', 'on', true) and the triggers skip it (WHEN clause).
-- Not detected: changes with triggers disabled (ALTER TABLE ... DISABLE TRIGGER,
-- session_replication_role = replica), a client that sets the mark itself, direct file edits.

-- TimescaleDB: 1m ranges changed outside the workbench, not yet refreshed into the aggregates
-- (empty on plain PostgreSQL, whose rollups are maintained in the changing transaction).
CREATE TABLE IF NOT EXISTS candle_rollup_stale (
    symbol VARCHAR(20) PRIMARY KEY,
    first_ts TIMESTAMP WITH TIME ZONE NOT NULL,
    last_ts TIMESTAMP WITH TIME ZONE NOT NULL,
    generation BIGINT NOT NULL DEFAULT 1      -- bumped by every change: the loader deletes only what it refreshed
);

DO $mig$
BEGIN
    -- re-runnable (the migration test re-applies every file)
    DROP TRIGGER IF EXISTS workbench_candles_row ON candles;
    DROP TRIGGER IF EXISTS workbench_candles_changed ON candles;
    DROP TRIGGER IF EXISTS workbench_candles_inserted ON candles;
    DROP TRIGGER IF EXISTS workbench_candles_updated ON candles;
    DROP TRIGGER IF EXISTS workbench_candles_deleted ON candles;
    DROP TRIGGER IF EXISTS workbench_candles_truncated ON candles;
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        -- the keys of the changed rows of one statement, into _wb_candles_touched
        CREATE OR REPLACE FUNCTION workbench_candles_row_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
        BEGIN
            IF to_regclass('pg_temp._wb_candles_touched') IS NULL THEN
                CREATE TEMP TABLE _wb_candles_touched (symbol TEXT, timeframe TEXT, ts TIMESTAMPTZ) ON COMMIT DROP;
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                INSERT INTO _wb_candles_touched VALUES (NEW.symbol, NEW.timeframe, NEW.timestamp);
            END IF;
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                INSERT INTO _wb_candles_touched VALUES (OLD.symbol, OLD.timeframe, OLD.timestamp);
            END IF;
            RETURN NULL;
        END
        $fn$;

        -- after the statement: bump the versions, record the 1m range to refresh, forget the keys
        CREATE OR REPLACE FUNCTION workbench_candles_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
        BEGIN
            IF to_regclass('pg_temp._wb_candles_touched') IS NULL THEN
                RETURN NULL;
            END IF;
            INSERT INTO data_versions (table_name, symbol, version, changed_at)
            SELECT DISTINCT 'candles', symbol, 1, now() FROM _wb_candles_touched
            ON CONFLICT (table_name, symbol) DO UPDATE SET version = data_versions.version + 1, changed_at = now();
            INSERT INTO candle_rollup_stale (symbol, first_ts, last_ts)
            SELECT symbol, min(ts), max(ts) FROM _wb_candles_touched WHERE timeframe = '1m' GROUP BY symbol
            ON CONFLICT (symbol) DO UPDATE SET
                first_ts = least(candle_rollup_stale.first_ts, EXCLUDED.first_ts),
                last_ts = greatest(candle_rollup_stale.last_ts, EXCLUDED.last_ts),
                generation = candle_rollup_stale.generation + 1;
            DELETE FROM _wb_candles_touched;
            RETURN NULL;
        END
        $fn$;

        CREATE OR REPLACE FUNCTION workbench_candles_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
        DECLARE
            tf TEXT;
        BEGIN
            UPDATE data_versions SET version = version + 1, changed_at = now() WHERE table_name = 'candles';
            FOREACH tf IN ARRAY ARRAY['5m', '15m', '1h', '4h', '1d'] LOOP
                EXECUTE format('TRUNCATE %I', 'candle_rollup_' || tf);
            END LOOP;
            DELETE FROM candle_rollup_stale;
            RETURN NULL;
        END
        $fn$;

        CREATE TRIGGER workbench_candles_row AFTER INSERT OR UPDATE OR DELETE ON candles FOR EACH ROW
            WHEN (current_setting('workbench.candles_maintained', true) IS DISTINCT FROM 'on')
            EXECUTE FUNCTION workbench_candles_row_changed();
        CREATE TRIGGER workbench_candles_changed AFTER INSERT OR UPDATE OR DELETE ON candles FOR EACH STATEMENT
            WHEN (current_setting('workbench.candles_maintained', true) IS DISTINCT FROM 'on')
            EXECUTE FUNCTION workbench_candles_changed();
    ELSE
        -- the changed rows of one statement (transition tables wb_new / wb_old) into _wb_candles_touched,
        -- then versions and rollups
        CREATE OR REPLACE FUNCTION workbench_candles_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
        DECLARE
            r RECORD;
            e RECORD;
            origin CONSTANT TIMESTAMPTZ := TIMESTAMPTZ '2000-01-03 00:00:00+00';
        BEGIN
            IF to_regclass('pg_temp._wb_candles_touched') IS NULL THEN
                CREATE TEMP TABLE _wb_candles_touched (symbol TEXT, timeframe TEXT, ts TIMESTAMPTZ) ON COMMIT DROP;
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                INSERT INTO _wb_candles_touched SELECT symbol, timeframe, timestamp FROM wb_new;
            END IF;
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                INSERT INTO _wb_candles_touched SELECT symbol, timeframe, timestamp FROM wb_old;
            END IF;
            -- the series locks every writer of candles holds (candles_lock.sql), in sorted order: the
            -- rollups are recomputed after any other writer of these series committed (each statement
            -- below then sees its rows) or before it starts (it then sees these)
            FOR r IN SELECT DISTINCT symbol, timeframe FROM _wb_candles_touched ORDER BY 1, 2 LOOP
                PERFORM pg_advisory_xact_lock(hashtext('workbench.candles'), hashtext(r.symbol || '/' || r.timeframe));
            END LOOP;
            INSERT INTO data_versions (table_name, symbol, version, changed_at)
            SELECT DISTINCT 'candles', symbol, 1, now() FROM _wb_candles_touched
            ON CONFLICT (table_name, symbol) DO UPDATE SET version = data_versions.version + 1, changed_at = now();
            -- every bucket holding a changed minute, recomputed from what is stored, level by level
            -- (each from the one below): aggregated bucket by bucket through the primary key or the
            -- unique index (LATERAL: no plan that scans a whole table, whatever its statistics say),
            -- then upserted; a bucket left without rows is deleted
            IF to_regclass('pg_temp._wb_rollup_buckets') IS NULL THEN
                CREATE TEMP TABLE _wb_rollup_buckets (symbol TEXT, timeframe TEXT, bucket TIMESTAMPTZ, open FLOAT8,
                    high FLOAT8, low FLOAT8, close FLOAT8, volume FLOAT8, n BIGINT) ON COMMIT DROP;
            END IF;
            TRUNCATE _wb_rollup_buckets;
            FOR r IN SELECT * FROM (VALUES ('5m', INTERVAL '5 minutes', '1m', 1), ('15m', INTERVAL '15 minutes', '5m', 2),
                                           ('1h', INTERVAL '1 hour', '15m', 3), ('4h', INTERVAL '4 hours', '1h', 4),
                                           ('1d', INTERVAL '1 day', '4h', 5)) v(tf, step, src, ord) ORDER BY ord LOOP
                IF r.src = '1m' THEN
                    INSERT INTO _wb_rollup_buckets
                    SELECT b.symbol, r.tf, b.bucket, a.*
                    FROM (SELECT DISTINCT symbol, date_bin(r.step, ts, origin) AS bucket
                          FROM _wb_candles_touched WHERE timeframe = '1m') b
                    CROSS JOIN LATERAL (
                        SELECT (array_agg(c.open_price ORDER BY c.timestamp))[1], max(c.high_price), min(c.low_price),
                               (array_agg(c.close_price ORDER BY c.timestamp DESC))[1], sum(c.volume), count(*)
                        FROM candles c
                        WHERE c.symbol = b.symbol AND c.timeframe = '1m'
                          AND c.timestamp >= b.bucket AND c.timestamp < b.bucket + r.step) a;
                ELSE
                    INSERT INTO _wb_rollup_buckets
                    SELECT b.symbol, r.tf, b.bucket, a.*
                    FROM (SELECT DISTINCT symbol, date_bin(r.step, bucket, origin) AS bucket
                          FROM _wb_rollup_buckets WHERE timeframe = r.src) b
                    CROSS JOIN LATERAL (
                        SELECT (array_agg(c.open ORDER BY c.ts))[1], max(c.high), min(c.low),
                               (array_agg(c.close ORDER BY c.ts DESC))[1], sum(c.volume), count(*)
                        FROM candle_rollups c
                        WHERE c.symbol = b.symbol AND c.timeframe = r.src
                          AND c.ts >= b.bucket AND c.ts < b.bucket + r.step) a;
                END IF;
                INSERT INTO candle_rollups (symbol, timeframe, ts, open, high, low, close, volume)
                SELECT symbol, timeframe, bucket, open, high, low, close, volume FROM _wb_rollup_buckets
                WHERE timeframe = r.tf AND n > 0
                ON CONFLICT (symbol, timeframe, ts) DO UPDATE SET
                    open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,
                    volume = EXCLUDED.volume;
                FOR e IN SELECT symbol, bucket FROM _wb_rollup_buckets WHERE timeframe = r.tf AND n = 0 LOOP
                    DELETE FROM candle_rollups WHERE symbol = e.symbol AND timeframe = r.tf AND ts = e.bucket;
                END LOOP;
            END LOOP;
            DELETE FROM _wb_candles_touched;
            RETURN NULL;
        END
        $fn$;

        CREATE OR REPLACE FUNCTION workbench_candles_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
        BEGIN
            UPDATE data_versions SET version = version + 1, changed_at = now() WHERE table_name = 'candles';
            DELETE FROM candle_rollups;
            RETURN NULL;
        END
        $fn$;

        -- a trigger with transition tables takes one event
        CREATE TRIGGER workbench_candles_inserted AFTER INSERT ON candles REFERENCING NEW TABLE AS wb_new
            FOR EACH STATEMENT WHEN (current_setting('workbench.candles_maintained', true) IS DISTINCT FROM 'on')
            EXECUTE FUNCTION workbench_candles_changed();
        CREATE TRIGGER workbench_candles_updated AFTER UPDATE ON candles
            REFERENCING OLD TABLE AS wb_old NEW TABLE AS wb_new
            FOR EACH STATEMENT WHEN (current_setting('workbench.candles_maintained', true) IS DISTINCT FROM 'on')
            EXECUTE FUNCTION workbench_candles_changed();
        CREATE TRIGGER workbench_candles_deleted AFTER DELETE ON candles REFERENCING OLD TABLE AS wb_old
            FOR EACH STATEMENT WHEN (current_setting('workbench.candles_maintained', true) IS DISTINCT FROM 'on')
            EXECUTE FUNCTION workbench_candles_changed();
    END IF;

    CREATE TRIGGER workbench_candles_truncated AFTER TRUNCATE ON candles FOR EACH STATEMENT
        WHEN (current_setting('workbench.candles_maintained', true) IS DISTINCT FROM 'on')
        EXECUTE FUNCTION workbench_candles_truncated();
END $mig$;

-- candles changed before this migration (by the workbench or not): every stored symbol gets a
-- version (a TRUNCATE bumps only symbols that have one) and a new one (frames cached before are dropped)
INSERT INTO data_versions (table_name, symbol, version, changed_at)
SELECT DISTINCT 'candles', symbol, 1, now() FROM candles
ON CONFLICT (table_name, symbol) DO UPDATE SET version = data_versions.version + 1, changed_at = now();
