-- Record a version of an archive file before it is moved into place (migration 0051); committed by
-- archive_file_commit in the transaction that raises the table's watermark.
INSERT INTO archive_files (path, sha256, table_name, symbol, timeframe, month, size_bytes, row_count,
                           min_time, max_time)
VALUES (:path, :sha256, :table_name, :symbol, :timeframe, :month, :size_bytes, :row_count, :min_time, :max_time)
ON CONFLICT (path, sha256) DO NOTHING
