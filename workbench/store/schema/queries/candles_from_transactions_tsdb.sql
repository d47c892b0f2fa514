-- OHLCV bars built from trades on the server (TimescaleDB). Trades that share a timestamp are
-- ordered by id, as in the date_bin twin (first/last compare the (timestamp, id) record).
SELECT time_bucket(CAST(:bucket AS interval), timestamp, TIMESTAMPTZ '2000-01-03 00:00:00+00') AS ts,
       first(price, (timestamp, id)) AS open,
       max(price) AS high,
       min(price) AS low,
       last(price, (timestamp, id)) AS close,
       sum(quantity) AS volume,
       sum(value) / NULLIF(sum(quantity), 0) AS vwap,
       count(*) AS trades
FROM transactions
WHERE symbol = :symbol AND timestamp >= :start AND timestamp < :end
GROUP BY 1
ORDER BY 1
