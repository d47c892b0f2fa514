-- 0003: reproducibility manifest of every stored backtest run (not in shared/schema.md).
-- One row per backtest_results row: parameters, data fingerprint, package versions, git commit;
-- sweep_id groups the rows of one parameter sweep, split tells in-sample from out-of-sample.

CREATE TABLE IF NOT EXISTS backtest_manifests (
    backtest_result_id INTEGER PRIMARY KEY REFERENCES backtest_results(id) ON DELETE CASCADE,
    run_id UUID NOT NULL,
    sweep_id UUID,
    split VARCHAR(20) NOT NULL DEFAULT 'full', -- full, in_sample, out_of_sample
    strategy_class VARCHAR(200) NOT NULL,
    parameters JSONB NOT NULL,
    backtest_config JSONB NOT NULL,
    data_fingerprint VARCHAR(64) NOT NULL,
    data_rows INTEGER NOT NULL,
    package_versions JSONB NOT NULL,
    git_commit VARCHAR(64),
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);

CREATE INDEX IF NOT EXISTS idx_backtest_manifests_run_id ON backtest_manifests(run_id);
CREATE INDEX IF NOT EXISTS idx_backtest_manifests_sweep_id ON backtest_manifests(sweep_id);
