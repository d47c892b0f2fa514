-- The range of :symbol read by rollups_stale_get.sql is refreshed: forget it, unless another change
-- was recorded meanwhile (its generation differs; the next load refreshes again).
DELETE FROM candle_rollup_stale WHERE symbol = :symbol AND generation = :generation
