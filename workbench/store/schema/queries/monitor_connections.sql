-- Server connections to this database by state (pg_stat_activity), this monitoring query's own included.
SELECT COALESCE(state, 'unknown') AS state, count(*) AS connections
FROM pg_stat_activity WHERE datname = current_database()
GROUP BY 1 ORDER BY 2 DESC, 1
