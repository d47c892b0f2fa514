UPDATE paper_runs
SET state = CAST(:state AS jsonb), last_bar = :last_bar, bars_processed = bars_processed + 1, updated_at = NOW()
WHERE id = :id AND (last_bar IS NULL OR last_bar < :last_bar)
RETURNING id
