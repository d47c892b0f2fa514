UPDATE portfolios
SET total_balance = :equity, available_balance = :cash, invested_balance = :invested,
    total_return = :total_return, max_drawdown = :max_drawdown, holdings = CAST(:holdings AS jsonb),
    updated_at = :ts
WHERE id = :id
