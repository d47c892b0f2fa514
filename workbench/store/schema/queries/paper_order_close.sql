UPDATE orders
SET status = CAST(:status AS order_status_enum), cancelled_at = :ts, updated_at = :ts, notes = :notes
WHERE id = :id AND status = 'pending'
