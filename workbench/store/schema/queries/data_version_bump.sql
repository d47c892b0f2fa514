-- Bump the data version of every (table, symbol) in _wb_stage (inside the writing transaction).
INSERT INTO data_versions (table_name, symbol, version, changed_at)
SELECT DISTINCT :table_name, symbol, 1, NOW() FROM _wb_stage
ON CONFLICT (table_name, symbol) DO UPDATE SET version = data_versions.version + 1, changed_at = NOW()
