-- Server-side bucketing on TimescaleDB (time_bucket, first/last); same bucket origin as date_bin.
SELECT time_bucket(CAST(:bucket AS interval), timestamp, TIMESTAMPTZ '2000-01-03 00:00:00+00') AS ts,
       first(open_price, timestamp) AS open,
       max(high_price) AS high,
       min(low_price) AS low,
       last(close_price, timestamp) AS close,
       sum(volume) AS volume
FROM candles
WHERE symbol = :symbol AND timeframe = :source_timeframe AND timestamp >= :start AND timestamp < :end
GROUP BY 1
ORDER BY 1
