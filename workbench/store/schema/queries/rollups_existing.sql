-- Rollup buckets of :symbol already stored from :first to :last (the direct write path copies the
-- others straight into candle_rollups and upserts these).
SELECT timeframe, ts FROM candle_rollups
WHERE symbol = :symbol AND ts >= :first AND ts <= :last
