INSERT INTO transactions (symbol, timestamp, price, quantity, value, side, bithumb_tx_id)
SELECT symbol, timestamp, price, quantity, value, side, bithumb_tx_id
FROM _wb_stage
ON CONFLICT (bithumb_tx_id, timestamp) DO NOTHING
RETURNING true AS inserted
