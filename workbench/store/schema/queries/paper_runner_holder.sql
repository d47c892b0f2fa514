-- The recorded runner of a run, if its connection still holds the run's runner lock (two-key
-- advisory locks show in pg_locks as classid = first key, objid = second key, objsubid = 2).
SELECT r.host, r.pid, r.since
FROM paper_run_runners r
JOIN pg_locks l ON l.pid = r.backend_pid
WHERE r.paper_run_id = :id
  AND l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
  AND l.classid = CAST(CAST(hashtext('workbench.paper_runner') AS bigint) & 4294967295 AS oid)
  AND l.objid = CAST(CAST(:id AS bigint) AS oid)
