INSERT INTO trades (order_id, user_id, strategy_id, paper_run_id, position_id, bithumb_trade_id, symbol, trade_side,
                    quantity, price, value, fee, trade_time, created_at)
VALUES (:order_id, :user_id, :strategy_id, :paper_run_id, :position_id, :trade_key, :symbol, :trade_side,
        :quantity, :price, :value, :fee, :ts, NOW())
ON CONFLICT (bithumb_trade_id) DO NOTHING
