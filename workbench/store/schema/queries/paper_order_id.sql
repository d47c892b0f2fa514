SELECT id FROM orders WHERE bithumb_order_id = :client_order_id
