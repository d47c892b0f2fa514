UPDATE portfolios SET paper_run_id = :paper_run_id WHERE id = :id
