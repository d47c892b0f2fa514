INSERT INTO paper_equity (paper_run_id, ts, equity, cash)
VALUES (:paper_run_id, :ts, :equity, :cash)
ON CONFLICT (paper_run_id, ts) DO NOTHING
