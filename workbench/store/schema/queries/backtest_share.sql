-- Share a run with a user; only the run's owner may (no row returned otherwise). Idempotent.
INSERT INTO backtest_shares (backtest_result_id, user_id, shared_by)
SELECT b.id, :user_id, :owner_id FROM backtest_results b WHERE b.id = :backtest_id AND b.user_id = :owner_id
ON CONFLICT (backtest_result_id, user_id) DO UPDATE SET shared_by = EXCLUDED.shared_by
RETURNING backtest_result_id
