-- Slowest statements by mean time (pg_stat_statements, PostgreSQL 13+ column names).
SELECT left(regexp_replace(query, '\s+', ' ', 'g'), 200) AS query, calls, mean_exec_time AS mean_ms,
       total_exec_time AS total_ms
FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY mean_exec_time DESC LIMIT :limit
