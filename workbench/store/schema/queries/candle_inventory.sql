-- What is stored: one row per (symbol, timeframe) with its time span and row count.
SELECT symbol, timeframe, min(timestamp) AS first_ts, max(timestamp) AS last_ts, count(*) AS rows
FROM candles
GROUP BY symbol, timeframe
ORDER BY symbol, timeframe
