UPDATE orders
SET status = CASE WHEN :done THEN 'filled'::order_status_enum ELSE 'partially_filled'::order_status_enum END,
    quantity = GREATEST(quantity, :filled), price = :price, filled_quantity = :filled,
    remaining_quantity = GREATEST(quantity, :filled) - :filled, fee = :fee, average_fill_price = :price,
    total_filled_value = :value, filled_at = CASE WHEN :done THEN :ts ELSE filled_at END, updated_at = :ts,
    notes = COALESCE(:notes, notes)
WHERE id = :id AND status IN ('pending', 'partially_filled')
