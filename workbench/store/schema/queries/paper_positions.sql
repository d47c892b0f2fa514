SELECT id, symbol, quantity, entry_price, entry_fee, exit_price, exit_fee, exit_reason, is_active,
       opened_at, closed_at, current_price, realized_pnl, unrealized_pnl
FROM positions
WHERE paper_run_id = :paper_run_id
ORDER BY opened_at, id
