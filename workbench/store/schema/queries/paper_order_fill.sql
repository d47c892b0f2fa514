UPDATE orders
SET status = 'filled', quantity = :quantity, price = :price, filled_quantity = :quantity,
    remaining_quantity = 0.0, fee = :fee, average_fill_price = :price, total_filled_value = :value,
    filled_at = :ts, updated_at = :ts, notes = COALESCE(:notes, notes)
WHERE id = :id AND status = 'pending'
