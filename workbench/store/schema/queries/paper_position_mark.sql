UPDATE positions
SET current_price = :price, unrealized_pnl = :unrealized, total_pnl = :unrealized, updated_at = :ts
WHERE id = :id AND is_active
