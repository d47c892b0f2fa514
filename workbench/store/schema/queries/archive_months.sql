-- Months (UTC) of {table} that hold rows older than the archive cutoff, oldest first.
SELECT DISTINCT date_trunc('month', timestamp AT TIME ZONE 'UTC') AS month
FROM {table}
WHERE timestamp < :cutoff
ORDER BY 1
