SELECT user_id FROM backtest_results WHERE id = :backtest_id
