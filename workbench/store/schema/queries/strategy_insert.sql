INSERT INTO strategies (user_id, name, strategy_type, description, parameters, risk_per_trade, max_positions,
                        stop_loss_pct, take_profit_pct, created_at)
VALUES (:user_id, :name, :strategy_type, :description, CAST(:parameters AS jsonb), :risk_per_trade,
        :max_positions, :stop_loss_pct, :take_profit_pct, NOW())
RETURNING id
