DELETE FROM paper_run_runners WHERE paper_run_id = :id AND backend_pid = pg_backend_pid()
