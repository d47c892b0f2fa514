SELECT value FROM workbench_secrets WHERE name = :name
