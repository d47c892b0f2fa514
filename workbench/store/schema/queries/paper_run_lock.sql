SELECT pg_advisory_xact_lock(hashtext('workbench.paper_run'), CAST(:id AS integer))
