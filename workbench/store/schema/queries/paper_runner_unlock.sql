SELECT pg_advisory_unlock(hashtext('workbench.paper_runner'), CAST(:id AS integer))
