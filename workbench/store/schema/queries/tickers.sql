SELECT timestamp AS ts, symbol, opening_price, closing_price, high_price, low_price, volume, value,
       change_24h, change_rate_24h, bid_price, ask_price, spread
FROM tickers
WHERE symbol = :symbol AND timestamp >= :start AND timestamp < :end
ORDER BY timestamp
