INSERT INTO tickers (symbol, timestamp, opening_price, closing_price, high_price, low_price, volume, value,
                     change_24h, change_rate_24h, bid_price, ask_price, spread)
SELECT symbol, timestamp, opening_price, closing_price, high_price, low_price, volume, value,
       change_24h, change_rate_24h, bid_price, ask_price, spread
FROM _wb_stage
ON CONFLICT (symbol, timestamp) DO UPDATE SET
    opening_price = EXCLUDED.opening_price, closing_price = EXCLUDED.closing_price,
    high_price = EXCLUDED.high_price, low_price = EXCLUDED.low_price, volume = EXCLUDED.volume,
    value = EXCLUDED.value, change_24h = EXCLUDED.change_24h, change_rate_24h = EXCLUDED.change_rate_24h,
    bid_price = EXCLUDED.bid_price, ask_price = EXCLUDED.ask_price, spread = EXCLUDED.spread
RETURNING (xmax = 0) AS inserted
