INSERT INTO backtest_results (
    strategy_id, user_id, start_date, end_date, initial_capital, symbol, timeframe, total_return,
    annual_return, max_drawdown, sharpe_ratio, sortino_ratio, win_rate, profit_factor, total_trades,
    winning_trades, losing_trades, avg_win, avg_loss, largest_win, largest_loss, equity_curve,
    trade_history, monthly_returns, created_at, execution_time)
VALUES (
    :strategy_id, :user_id, :start_date, :end_date, :initial_capital, :symbol, :timeframe, :total_return,
    :annual_return, :max_drawdown, :sharpe_ratio, :sortino_ratio, :win_rate, :profit_factor, :total_trades,
    :winning_trades, :losing_trades, :avg_win, :avg_loss, :largest_win, :largest_loss,
    CAST(:equity_curve AS jsonb), CAST(:trade_history AS jsonb), CAST(:monthly_returns AS jsonb), NOW(),
    :execution_time)
RETURNING id
