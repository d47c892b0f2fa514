UPDATE strategies SET strategy_type = :strategy_type, description = :description,
    parameters = CAST(:parameters AS jsonb), risk_per_trade = :risk_per_trade, max_positions = :max_positions,
    stop_loss_pct = :stop_loss_pct, take_profit_pct = :take_profit_pct, updated_at = NOW()
WHERE id = :id
