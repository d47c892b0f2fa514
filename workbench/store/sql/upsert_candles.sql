INSERT INTO candles (symbol, timeframe, timestamp, open_price, high_price, low_price, close_price, volume)
SELECT symbol, timeframe, timestamp, open_price, high_price, low_price, close_price, volume
FROM _wb_stage
ON CONFLICT (symbol, timeframe, timestamp) DO UPDATE SET
    open_price = EXCLUDED.open_price,
    high_price = EXCLUDED.high_price,
    low_price = EXCLUDED.low_price,
    close_price = EXCLUDED.close_price,
    volume = EXCLUDED.volume
RETURNING (xmax = 0) AS inserted
