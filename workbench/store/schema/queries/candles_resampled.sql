-- Server-side bucketing on plain PostgreSQL (date_bin, PostgreSQL >= 14). Buckets start at
-- 2000-01-03 00:00 UTC (a Monday) + k * bucket, so days start at midnight UTC, weeks on Monday.
SELECT date_bin(CAST(:bucket AS interval), timestamp, TIMESTAMPTZ '2000-01-03 00:00:00+00') AS ts,
       (array_agg(open_price ORDER BY timestamp))[1] AS open,
       max(high_price) AS high,
       min(low_price) AS low,
       (array_agg(close_price ORDER BY timestamp DESC))[1] AS close,
       sum(volume) AS volume
FROM candles
WHERE symbol = :symbol AND timeframe = :source_timeframe AND timestamp >= :start AND timestamp < :end
GROUP BY 1
ORDER BY 1
