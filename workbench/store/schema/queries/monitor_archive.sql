-- Archive and retention state per market table: rows older than archived_until are in the Parquet archive
-- (and may be removed by retention after 30 days); pending_until is an archive run in progress.
SELECT table_name, archived_until, pending_until, generation, updated_at FROM archive_watermarks ORDER BY table_name
