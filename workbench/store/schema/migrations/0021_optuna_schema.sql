-- 0021: a schema of its own for Optuna's RDB storage (studies, trials, ...), so its tables never mix
-- with the workbench's; `workbench optimize` connects with search_path=optuna.

CREATE SCHEMA IF NOT EXISTS optuna;
