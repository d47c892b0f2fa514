SELECT archived_until, generation FROM archive_watermarks WHERE table_name = :table_name
