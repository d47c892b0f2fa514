-- One finished combination of a sweep; fails on (sweep_id, combo_key) if it is stored already.
INSERT INTO sweep_items (sweep_id, combo_key, params, metrics, daily_returns, data_fingerprint, backtest_result_id)
VALUES (CAST(:sweep_id AS uuid), :combo_key, CAST(:params AS jsonb), CAST(:metrics AS jsonb),
        CAST(:daily_returns AS jsonb), :data_fingerprint, :backtest_result_id)
