-- Version :sha256 is the file now at :path (after archive_file_drop_others, same transaction).
UPDATE archive_files SET committed = TRUE, recorded_at = now() WHERE path = :path AND sha256 = :sha256
