SELECT ts, equity, cash FROM paper_equity WHERE paper_run_id = :paper_run_id ORDER BY ts
