-- What load_candles needs before it looks in the cache, in one round trip: the symbol's data version
-- (as data_version_get) and the first of :timeframes (stored timeframes, largest first) that has
-- candles in [start, end), NULL if none.
SELECT COALESCE((SELECT version FROM data_versions WHERE table_name = :table_name AND symbol = :symbol), 0)
           AS version,
       (SELECT c.tf
        FROM unnest(CAST(:timeframes AS text[])) WITH ORDINALITY AS c (tf, i)
        WHERE EXISTS (
            SELECT 1 FROM candles
            WHERE symbol = :symbol AND timeframe = c.tf AND timestamp >= :start AND timestamp < :end
        )
        ORDER BY c.i
        LIMIT 1) AS source_timeframe
