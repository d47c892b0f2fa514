-- Every recorded version of every archive file, committed first (workbench archive --verify).
SELECT path, sha256, table_name, symbol, timeframe, month, size_bytes, row_count, min_time, max_time, committed
FROM archive_files
ORDER BY path, committed DESC, recorded_at
