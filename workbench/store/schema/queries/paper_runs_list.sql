SELECT r.id, s.name AS strategy, r.mode, array_to_string(r.symbols, ',') AS symbols, r.timeframe,
       r.start_time, r.end_time, r.last_bar, r.bars_processed, r.status, p.total_balance AS equity,
       (SELECT count(*) FROM orders o WHERE o.paper_run_id = r.id AND o.status = 'filled') AS fills
FROM paper_runs r
JOIN strategies s ON s.id = r.strategy_id
LEFT JOIN portfolios p ON p.id = r.portfolio_id
WHERE CAST(:user_id AS integer) IS NULL OR r.user_id = CAST(:user_id AS integer)
ORDER BY r.id DESC
LIMIT :limit
