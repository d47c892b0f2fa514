SELECT state, last_bar FROM paper_runs WHERE id = :id
