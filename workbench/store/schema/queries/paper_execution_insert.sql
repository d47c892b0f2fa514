INSERT INTO strategy_executions (strategy_id, user_id, paper_run_id, bar_time, execution_type, signal_data,
                                 order_data, error_message, market_data, success, execution_time, created_at)
VALUES (:strategy_id, :user_id, :paper_run_id, :bar_time, :execution_type, CAST(:signal_data AS jsonb),
        CAST(:order_data AS jsonb), :error_message, CAST(:market_data AS jsonb), :success, :execution_time, NOW())
