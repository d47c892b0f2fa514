-- A strategy's summary columns over all of its stored backtests: sums of trades and PnL, the win rate
-- of all those trades, the worst drawdown, the mean Sharpe ratio. is_backtesting is runs.backtesting()'s.
UPDATE strategies AS s SET
    total_trades = a.total_trades,
    winning_trades = a.winning_trades,
    losing_trades = a.losing_trades,
    total_pnl = a.total_pnl,
    win_rate = CASE WHEN a.total_trades > 0 THEN CAST(a.winning_trades AS float) / a.total_trades ELSE 0 END,
    max_drawdown = a.max_drawdown,
    sharpe_ratio = a.sharpe_ratio,
    last_executed = a.last_executed,
    updated_at = NOW()
FROM (
    SELECT strategy_id,
           COALESCE(sum(total_trades), 0) AS total_trades,
           COALESCE(sum(winning_trades), 0) AS winning_trades,
           COALESCE(sum(losing_trades), 0) AS losing_trades,
           COALESCE(sum(total_return * initial_capital), 0) AS total_pnl,
           COALESCE(max(max_drawdown), 0) AS max_drawdown,
           COALESCE(avg(sharpe_ratio), 0) AS sharpe_ratio,
           max(created_at) AS last_executed
    FROM backtest_results WHERE strategy_id = :strategy_id GROUP BY strategy_id
) AS a
WHERE s.id = a.strategy_id
