INSERT INTO paper_runs (user_id, strategy_id, portfolio_id, mode, symbols, timeframe, start_time, trade_start,
                        end_time, config, rules, state, status, updated_at)
VALUES (:user_id, :strategy_id, :portfolio_id, :mode, :symbols, :timeframe, :start_time, :trade_start,
        :end_time, CAST(:config AS jsonb), CAST(:rules AS jsonb), CAST(:state AS jsonb), 'created', NOW())
RETURNING id
