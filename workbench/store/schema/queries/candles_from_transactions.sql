-- OHLCV bars built from trades on the server (plain PostgreSQL).
SELECT date_bin(CAST(:bucket AS interval), timestamp, TIMESTAMPTZ '2000-01-03 00:00:00+00') AS ts,
       (array_agg(price ORDER BY timestamp, id))[1] AS open,
       max(price) AS high,
       min(price) AS low,
       (array_agg(price ORDER BY timestamp DESC, id DESC))[1] AS close,
       sum(quantity) AS volume,
       sum(value) / NULLIF(sum(quantity), 0) AS vwap,
       count(*) AS trades
FROM transactions
WHERE symbol = :symbol AND timestamp >= :start AND timestamp < :end
GROUP BY 1
ORDER BY 1
