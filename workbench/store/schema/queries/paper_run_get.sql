SELECT r.*, s.name AS strategy_name
FROM paper_runs r JOIN strategies s ON s.id = r.strategy_id
WHERE r.id = :id
