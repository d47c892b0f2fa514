-- Recorded versions of one partition's archive files (every month), committed first.
SELECT path, sha256, table_name, symbol, timeframe, month, size_bytes, row_count, min_time, max_time, committed
FROM archive_files
WHERE table_name = :table_name AND symbol = :symbol AND timeframe IS NOT DISTINCT FROM CAST(:timeframe AS TEXT)
ORDER BY path, committed DESC, recorded_at
