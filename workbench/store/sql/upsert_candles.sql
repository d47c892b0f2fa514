-- Upsert from _wb_stage that touches only rows whose values differ; returns (inserted, updated).
WITH up AS (
INSERT INTO candles (symbol, timeframe, timestamp, open_price, high_price, low_price, close_price, volume)
SELECT symbol, timeframe, timestamp, open_price, high_price, low_price, close_price, volume
FROM _wb_stage
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
