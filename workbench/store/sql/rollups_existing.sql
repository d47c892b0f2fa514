-- Rollup buckets of (symbol, timeframe) already stored from :first to :last (the direct write path
-- copies the others straight into candle_rollups and upserts these).
SELECT ts FROM candle_rollups
WHERE symbol = :symbol AND timeframe = :timeframe AND ts >= :first AND ts <= :last
