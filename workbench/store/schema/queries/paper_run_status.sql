UPDATE paper_runs SET status = :status, updated_at = NOW() WHERE id = :id
