SELECT timestamp AS ts, symbol, bids, asks, bid_volume, ask_volume, spread, mid_price
FROM orderbooks
WHERE symbol = :symbol AND timestamp >= :start AND timestamp < :end
ORDER BY timestamp
