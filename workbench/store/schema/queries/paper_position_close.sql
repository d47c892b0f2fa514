UPDATE positions
SET is_active = FALSE, closed_at = :ts, updated_at = :ts, current_price = :exit_price, exit_price = :exit_price,
    exit_fee = :exit_fee, exit_reason = :exit_reason, realized_pnl = :pnl, unrealized_pnl = 0.0, total_pnl = :pnl
WHERE id = :id
