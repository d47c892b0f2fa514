-- Candles at a rollup timeframe (5m, 15m, 1h, 4h, 1d) from candle_rollups (migration 0005).
SELECT ts, open, high, low, close, volume
FROM candle_rollups
WHERE symbol = :symbol AND timeframe = :timeframe AND ts >= :start AND ts < :end
ORDER BY ts
