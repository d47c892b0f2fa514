SELECT id, execution_type, bar_time, signal_data, order_data, error_message, success, created_at
FROM strategy_executions
WHERE paper_run_id = :paper_run_id
ORDER BY id
