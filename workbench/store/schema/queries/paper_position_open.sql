INSERT INTO positions (user_id, strategy_id, paper_run_id, symbol, side, quantity, entry_price, entry_fee,
                       current_price, stop_loss_price, take_profit_price, is_active, opened_at, updated_at)
VALUES (:user_id, :strategy_id, :paper_run_id, :symbol, 'long', :quantity, :entry_price, :entry_fee,
        :entry_price, :stop_loss_price, :take_profit_price, TRUE, :ts, :ts)
RETURNING id
