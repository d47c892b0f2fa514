SELECT timestamp AS ts, open_price AS open, high_price AS high, low_price AS low, close_price AS close, volume
FROM candles
WHERE symbol = :symbol AND timeframe = :timeframe AND timestamp >= :start AND timestamp < :end
ORDER BY timestamp
