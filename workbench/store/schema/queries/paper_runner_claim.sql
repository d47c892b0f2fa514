-- Record the process that took the run's runner lock (replacing a row a killed runner left behind);
-- nothing for a run that does not exist (the caller's look-up of the run says so).
INSERT INTO paper_run_runners (paper_run_id, host, pid, backend_pid, since)
SELECT id, :host, :pid, pg_backend_pid(), NOW() FROM paper_runs WHERE id = :id
ON CONFLICT (paper_run_id) DO UPDATE
SET host = EXCLUDED.host, pid = EXCLUDED.pid, backend_pid = EXCLUDED.backend_pid, since = EXCLUDED.since
