SELECT pg_try_advisory_lock(hashtext('workbench.paper_runner'), CAST(:id AS integer))
