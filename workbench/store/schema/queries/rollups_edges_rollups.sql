-- Recompute the :timeframe rollup buckets (width :step) that contain a 1m row of _wb_stage, from
-- the :source rollups below them (run after those were brought up to date).
INSERT INTO candle_rollups (symbol, timeframe, ts, open, high, low, close, volume)
SELECT c.symbol, :timeframe, p.bucket,
       (array_agg(c.open ORDER BY c.ts))[1], max(c.high), min(c.low),
       (array_agg(c.close ORDER BY c.ts DESC))[1], sum(c.volume)
FROM (SELECT DISTINCT symbol,
             date_bin(CAST(:step AS interval), timestamp, TIMESTAMPTZ '2000-01-03 00:00:00+00') AS bucket
      FROM _wb_stage WHERE timeframe = '1m') p
JOIN candle_rollups c
  ON c.symbol = p.symbol AND c.timeframe = :source
 AND c.ts >= p.bucket AND c.ts < p.bucket + CAST(:step AS interval)
GROUP BY c.symbol, p.bucket
ON CONFLICT (symbol, timeframe, ts) DO UPDATE SET
    open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,
    volume = EXCLUDED.volume
