-- Stored runs with their manifest and owner, newest first; with :user_id those the user owns or that were
-- shared with them.
SELECT b.id, b.strategy_id, s.name AS strategy, s.strategy_type, b.symbol, b.timeframe, b.start_date,
       b.end_date, b.initial_capital, b.total_return, b.annual_return, b.max_drawdown, b.sharpe_ratio,
       b.sortino_ratio, b.win_rate, b.profit_factor, b.total_trades, b.execution_time, b.created_at,
       m.run_id, m.sweep_id, m.split, m.parameters, m.data_fingerprint, m.git_commit, u.username AS owner
FROM backtest_results AS b
JOIN strategies AS s ON s.id = b.strategy_id
JOIN users AS u ON u.id = b.user_id
LEFT JOIN backtest_manifests AS m ON m.backtest_result_id = b.id
WHERE (CAST(:strategy_id AS integer) IS NULL OR b.strategy_id = CAST(:strategy_id AS integer))
  AND (CAST(:sweep_id AS uuid) IS NULL OR m.sweep_id = CAST(:sweep_id AS uuid))
  AND (CAST(:user_id AS integer) IS NULL OR b.user_id = CAST(:user_id AS integer)
       OR EXISTS (SELECT 1 FROM backtest_shares AS sh
                  WHERE sh.backtest_result_id = b.id AND sh.user_id = CAST(:user_id AS integer)))
ORDER BY b.id DESC
LIMIT :limit
