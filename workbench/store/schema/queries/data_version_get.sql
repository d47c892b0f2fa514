SELECT COALESCE((SELECT version FROM data_versions WHERE table_name = :table_name AND symbol = :symbol), 0)
