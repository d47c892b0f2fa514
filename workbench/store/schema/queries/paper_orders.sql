SELECT id, bithumb_order_id, symbol, order_type, quantity, price, status, fee, created_at, filled_at, notes
FROM orders
WHERE paper_run_id = :paper_run_id
ORDER BY id
