-- Size of each table of the public schema (with indexes and TOAST; a hypertable's chunks are counted by
-- monitor_hypertable_sizes), largest first.
SELECT c.relname AS table_name, pg_total_relation_size(c.oid) AS bytes, c.reltuples::bigint AS rows_estimate
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
ORDER BY bytes DESC, table_name
