SELECT id, user_id, name, strategy_type, description, parameters, risk_per_trade, max_positions,
       stop_loss_pct, take_profit_pct
FROM strategies WHERE id = :id
