-- Recompute the :timeframe rollup buckets (width :step) that contain a 1m row of _wb_stage, from
-- the stored 1m candles (the direct write path stages only the first and last minute of each run of
-- rows it wrote: buckets there may hold stored minutes the client did not see).
INSERT INTO candle_rollups (symbol, timeframe, ts, open, high, low, close, volume)
SELECT c.symbol, :timeframe, p.bucket,
       (array_agg(c.open_price ORDER BY c.timestamp))[1], max(c.high_price), min(c.low_price),
       (array_agg(c.close_price ORDER BY c.timestamp DESC))[1], sum(c.volume)
FROM (SELECT DISTINCT symbol,
             date_bin(CAST(:step AS interval), timestamp, TIMESTAMPTZ '2000-01-03 00:00:00+00') AS bucket
      FROM _wb_stage WHERE timeframe = '1m') p
JOIN candles c
  ON c.symbol = p.symbol AND c.timeframe = '1m'
 AND c.timestamp >= p.bucket AND c.timestamp < p.bucket + CAST(:step AS interval)
GROUP BY c.symbol, p.bucket
ON CONFLICT (symbol, timeframe, ts) DO UPDATE SET
    open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,
    volume = EXCLUDED.volume
