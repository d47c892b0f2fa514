-- Is any candle of (symbol, timeframe) stored from :first to :last? (the direct write path)
SELECT EXISTS (
    SELECT 1 FROM candles
    WHERE symbol = :symbol AND timeframe = :timeframe AND timestamp >= :first AND timestamp <= :last
)
