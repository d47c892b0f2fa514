-- TimescaleDB, after a write of 1m candles in [:start, :end): materialize that range of one
-- continuous aggregate (real-time aggregation only covers minutes above the materialization watermark).
CALL refresh_continuous_aggregate(CAST(:view AS regclass), CAST(:start AS timestamptz), CAST(:end AS timestamptz))
