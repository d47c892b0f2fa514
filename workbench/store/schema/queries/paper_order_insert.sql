INSERT INTO orders (user_id, strategy_id, paper_run_id, bithumb_order_id, symbol, order_type, order_side, quantity,
                    price, remaining_quantity, status, fee, notes, created_at, updated_at)
VALUES (:user_id, :strategy_id, :paper_run_id, :client_order_id, :symbol, CAST(:order_type AS order_type_enum),
        :order_side, :quantity, :price, :quantity, 'pending', 0.0, :notes, :created_at, :created_at)
ON CONFLICT (bithumb_order_id) DO NOTHING
RETURNING id
