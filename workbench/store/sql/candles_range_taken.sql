-- Is any candle of (symbol, timeframe) stored with after < timestamp <= last? (the direct write path)
SELECT EXISTS (
    SELECT 1 FROM candles
    WHERE symbol = :symbol AND timeframe = :timeframe AND timestamp > :after AND timestamp <= :last
)
