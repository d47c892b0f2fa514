-- Client connections to the whole server (every database) and the server's max_connections.
SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') AS used,
       current_setting('max_connections')::integer AS max_connections
