-- The finished combinations of a sweep, in the order they were stored.
SELECT combo_key, params, metrics, daily_returns, data_fingerprint, backtest_result_id
FROM sweep_items
WHERE sweep_id = CAST(:sweep_id AS uuid)
ORDER BY created_at, combo_key
