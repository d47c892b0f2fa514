SELECT EXISTS (
    SELECT 1 FROM candles
    WHERE symbol = :symbol AND timeframe = :timeframe AND timestamp >= :start AND timestamp < :end
)
