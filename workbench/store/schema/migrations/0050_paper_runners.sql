-- 0050: who runs a paper run. A process that runs (or resumes) a paper run holds the session-level
-- advisory lock (hashtext('workbench.paper_runner'), run id) for as long as it runs it, and records
-- itself here; a second process that cannot take the lock is refused and names the holder from this
-- row. The lock, not the row, decides: a row left by a killed process is replaced by the next runner.

CREATE TABLE IF NOT EXISTS paper_run_runners (
    paper_run_id INTEGER PRIMARY KEY REFERENCES paper_runs(id) ON DELETE CASCADE,
    host TEXT NOT NULL,                      -- the runner's host name
    pid INTEGER NOT NULL,                    -- the runner's process id on that host
    backend_pid INTEGER NOT NULL,            -- pg_backend_pid() of the connection holding the lock
    since TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);
