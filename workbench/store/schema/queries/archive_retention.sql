-- Plain-PostgreSQL retention of {table}: delete rows older than both the horizon and the archive
-- watermark (no watermark: nothing is deleted).
DELETE FROM {table}
WHERE timestamp < (SELECT least(archived_until, now() - CAST(:keep AS interval))
                   FROM archive_watermarks WHERE table_name = :table_name)
