-- Rollup buckets computed by the client (_wb_rollup_stage: symbol, timeframe, ts, open, high, low,
-- close, volume) into candle_rollups, inside the writer's transaction.
INSERT INTO candle_rollups (symbol, timeframe, ts, open, high, low, close, volume)
SELECT symbol, timeframe, ts, open, high, low, close, volume FROM _wb_rollup_stage
ON CONFLICT (symbol, timeframe, ts) DO UPDATE SET
    open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,
    volume = EXCLUDED.volume
