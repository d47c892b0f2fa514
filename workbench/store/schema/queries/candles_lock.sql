-- Taken by every write of candles, in its transaction, per (symbol, timeframe) written (in sorted
-- order): a direct write's check that its range is empty and its COPY then see no other writer's
-- uncommitted rows of the same series.
SELECT pg_advisory_xact_lock(hashtext('workbench.candles'), hashtext(:symbol || '/' || :timeframe))
