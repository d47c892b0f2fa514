-- Trades never change: a known (bithumb_tx_id, timestamp) is skipped; returns (inserted, updated).
WITH up AS (
INSERT INTO transactions (symbol, timestamp, price, quantity, value, side, bithumb_tx_id)
SELECT symbol, timestamp, price, quantity, value, side, bithumb_tx_id
FROM _wb_stage
ON CONFLICT (bithumb_tx_id, timestamp) DO NOTHING
RETURNING 1
)
SELECT count(*) AS inserted, 0::bigint AS updated FROM up
