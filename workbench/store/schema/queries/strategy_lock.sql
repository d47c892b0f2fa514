-- Serialises save_strategy's look-up-then-insert per user, until the transaction ends: two writers saving
-- the same strategy name at once (two studies or sweeps) store it once.
SELECT pg_advisory_xact_lock(hashtext('workbench.strategy'), CAST(:user_id AS integer))
