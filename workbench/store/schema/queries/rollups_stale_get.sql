-- TimescaleDB: the 1m range of :symbol changed by other SQL clients since the continuous aggregates
-- were last refreshed over it (recorded by the triggers of migration 0052); no row when none.
SELECT first_ts, last_ts, generation FROM candle_rollup_stale WHERE symbol = :symbol
