-- Upsert from _wb_stage that touches only rows whose values differ; returns (inserted, updated).
-- Rows stored with the same values are filtered out first by a read-only lookup (ON CONFLICT would
-- lock each of them, i.e. write every page of an unchanged range).
WITH up AS (
INSERT INTO candles (symbol, timeframe, timestamp, open_price, high_price, low_price, close_price, volume)
SELECT s.symbol, s.timeframe, s.timestamp, s.open_price, s.high_price, s.low_price, s.close_price, s.volume
FROM _wb_stage s
WHERE NOT EXISTS (
    SELECT 1 FROM candles c
    WHERE c.symbol = s.symbol AND c.timeframe = s.timeframe AND c.timestamp = s.timestamp
      AND (c.open_price, c.high_price, c.low_price, c.close_price, c.volume)
          IS NOT DISTINCT FROM (s.open_price, s.high_price, s.low_price, s.close_price, s.volume))
ON CONFLICT (symbol, timeframe, timestamp) DO UPDATE SET
    open_price = EXCLUDED.open_price,
    high_price = EXCLUDED.high_price,
    low_price = EXCLUDED.low_price,
    close_price = EXCLUDED.close_price,
    volume = EXCLUDED.volume
WHERE (candles.open_price, candles.high_price, candles.low_price, candles.close_price, candles.volume)
    IS DISTINCT FROM (EXCLUDED.open_price, EXCLUDED.high_price, EXCLUDED.low_price, EXCLUDED.close_price, EXCLUDED.volume)
RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated FROM up
