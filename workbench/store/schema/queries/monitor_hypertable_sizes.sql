-- TimescaleDB: each hypertable's total size and its compression (bytes before and after).
SELECT h.hypertable_name AS table_name, hypertable_size(format('%I.%I', h.hypertable_schema, h.hypertable_name)::regclass) AS bytes,
       s.before_compression_total_bytes AS before_bytes, s.after_compression_total_bytes AS after_bytes
FROM timescaledb_information.hypertables h
LEFT JOIN LATERAL hypertable_compression_stats(format('%I.%I', h.hypertable_schema, h.hypertable_name)::regclass) s ON TRUE
ORDER BY bytes DESC
