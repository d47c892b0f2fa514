-- In the writer's transaction after an upsert of candles: bring candle_rollups up to date for the
-- staged 1m rows (plain PostgreSQL; a no-op on TimescaleDB, whose continuous aggregates are real-time).
SELECT workbench_maintain_rollups()
