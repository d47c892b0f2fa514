-- 0005: rollups of 1m candles at the standard timeframes 5m, 15m, 1h, 4h, 1d, read by the loaders
-- instead of bucketing millions of 1m rows on every load. Same buckets as the loaders' queries
-- (origin 2000-01-03 00:00 UTC), same aggregates (open/close of the first/last minute, high/low
-- extremes, summed volume).
--   * TimescaleDB: one continuous aggregate per timeframe (candle_rollup_5m ...), real-time
--     (materialized_only = false), with a refresh policy over the last 7 days (inside the 30-day
--     retention, so a refresh never forgets buckets whose minutes were archived and dropped);
--     writes of older minutes refresh their range right after the write (workbench.store.maintenance).
--   * plain PostgreSQL: a table maintained at write time by workbench_maintain_rollups(), called in
--     the writer's transaction; this migration fills it from the stored 1m candles.
-- Either way the loaders read the relation candle_rollups(symbol, timeframe, ts, open, high, low, close, volume).

DO $mig$
DECLARE
    r RECORD;
    views TEXT := '';
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        FOR r IN SELECT * FROM (VALUES ('5m', INTERVAL '5 minutes', 1), ('15m', INTERVAL '15 minutes', 2),
                                       ('1h', INTERVAL '1 hour', 3), ('4h', INTERVAL '4 hours', 4),
                                       ('1d', INTERVAL '1 day', 5)) v(tf, step, ord) ORDER BY ord LOOP
            EXECUTE format($v$
                CREATE MATERIALIZED VIEW IF NOT EXISTS %I
                WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
                SELECT symbol,
                       time_bucket(%L::interval, timestamp, TIMESTAMPTZ '2000-01-03 00:00:00+00') AS ts,
                       first(open_price, timestamp) AS open, max(high_price) AS high, min(low_price) AS low,
                       last(close_price, timestamp) AS close, sum(volume) AS volume
                FROM candles WHERE timeframe = '1m'
                GROUP BY symbol, 2
                WITH NO DATA$v$, 'candle_rollup_' || r.tf, r.step);
            PERFORM add_continuous_aggregate_policy(('candle_rollup_' || r.tf)::regclass,
                start_offset => INTERVAL '7 days', end_offset => r.step,
                schedule_interval => least(r.step, INTERVAL '1 hour'), if_not_exists => TRUE);
            views := views || CASE WHEN views = '' THEN '' ELSE ' UNION ALL ' END
                || format('SELECT symbol, %L::varchar(10) AS timeframe, ts, open, high, low, close, volume FROM %I',
                          r.tf, 'candle_rollup_' || r.tf);
        END LOOP;
        EXECUTE 'CREATE OR REPLACE VIEW candle_rollups AS ' || views;
        -- nothing to do at write time: the aggregates are real-time
        CREATE OR REPLACE FUNCTION workbench_maintain_rollups() RETURNS void LANGUAGE sql AS 'SELECT';
        RETURN;
    END IF;

    CREATE TABLE IF NOT EXISTS candle_rollups (
        symbol VARCHAR(20) NOT NULL,
        timeframe VARCHAR(10) NOT NULL,
        ts TIMESTAMP WITH TIME ZONE NOT NULL,
        open FLOAT NOT NULL,
        high FLOAT NOT NULL,
        low FLOAT NOT NULL,
        close FLOAT NOT NULL,
        volume FLOAT NOT NULL,
        PRIMARY KEY (symbol, timeframe, ts)
    );

    -- Recompute the rollup buckets covering the 1m rows staged in _wb_stage (the writer's staging
    -- table): per symbol, every bucket from the first to the last staged minute; each timeframe from
    -- the one below it (5m from 1m, 15m from 5m, ..., 1d from 4h).
    CREATE OR REPLACE FUNCTION workbench_maintain_rollups() RETURNS void LANGUAGE plpgsql AS $fn$
    DECLARE
        r RECORD;
        origin CONSTANT TIMESTAMPTZ := TIMESTAMPTZ '2000-01-03 00:00:00+00';
    BEGIN
        CREATE TEMP TABLE IF NOT EXISTS _wb_rollup_span (symbol TEXT, first_ts TIMESTAMPTZ, last_ts TIMESTAMPTZ)
            ON COMMIT DROP;
        TRUNCATE _wb_rollup_span;
        INSERT INTO _wb_rollup_span
            SELECT symbol, min(timestamp), max(timestamp) FROM _wb_stage WHERE timeframe = '1m' GROUP BY symbol;
        FOR r IN SELECT * FROM (VALUES ('5m', INTERVAL '5 minutes', '1m', 1), ('15m', INTERVAL '15 minutes', '5m', 2),
                                       ('1h', INTERVAL '1 hour', '15m', 3), ('4h', INTERVAL '4 hours', '1h', 4),
                                       ('1d', INTERVAL '1 day', '4h', 5)) v(tf, step, src, ord) ORDER BY ord LOOP
            IF r.src = '1m' THEN
                INSERT INTO candle_rollups (symbol, timeframe, ts, open, high, low, close, volume)
                SELECT c.symbol, r.tf, date_bin(r.step, c.timestamp, origin),
                       (array_agg(c.open_price ORDER BY c.timestamp))[1], max(c.high_price), min(c.low_price),
                       (array_agg(c.close_price ORDER BY c.timestamp DESC))[1], sum(c.volume)
                FROM _wb_rollup_span w JOIN candles c
                  ON c.symbol = w.symbol AND c.timeframe = '1m'
                 AND c.timestamp >= date_bin(r.step, w.first_ts, origin)
                 AND c.timestamp < date_bin(r.step, w.last_ts, origin) + r.step
                GROUP BY 1, 3
                ON CONFLICT (symbol, timeframe, ts) DO UPDATE SET
                    open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,
                    volume = EXCLUDED.volume;
            ELSE
                INSERT INTO candle_rollups (symbol, timeframe, ts, open, high, low, close, volume)
                SELECT c.symbol, r.tf, date_bin(r.step, c.ts, origin),
                       (array_agg(c.open ORDER BY c.ts))[1], max(c.high), min(c.low),
                       (array_agg(c.close ORDER BY c.ts DESC))[1], sum(c.volume)
                FROM _wb_rollup_span w JOIN candle_rollups c
                  ON c.symbol = w.symbol AND c.timeframe = r.src
                 AND c.ts >= date_bin(r.step, w.first_ts, origin)
                 AND c.ts < date_bin(r.step, w.last_ts, origin) + r.step
                GROUP BY 1, 3
                ON CONFLICT (symbol, timeframe, ts) DO UPDATE SET
                    open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,
                    volume = EXCLUDED.volume;
            END IF;
        END LOOP;
    END
    $fn$;

    -- fill from what is stored
    CREATE TEMP TABLE _wb_stage ON COMMIT DROP AS
        SELECT symbol, timeframe, timestamp FROM candles WHERE timeframe = '1m';
    PERFORM workbench_maintain_rollups();
    DROP TABLE _wb_stage;
END $mig$;
