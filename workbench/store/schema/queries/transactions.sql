SELECT timestamp AS ts, symbol, price, quantity, value, side, bithumb_tx_id
FROM transactions
WHERE symbol = :symbol AND timestamp >= :start AND timestamp < :end
ORDER BY timestamp, id
