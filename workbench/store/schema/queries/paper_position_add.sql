UPDATE positions
SET quantity = :quantity, entry_price = :entry_price, entry_fee = :entry_fee, updated_at = :ts
WHERE id = :id AND is_active
