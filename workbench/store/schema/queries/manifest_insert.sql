INSERT INTO backtest_manifests (backtest_result_id, run_id, sweep_id, split, strategy_class, parameters,
                                backtest_config, data_fingerprint, data_rows, package_versions, git_commit)
VALUES (:backtest_result_id, :run_id, :sweep_id, :split, :strategy_class, CAST(:parameters AS jsonb),
        CAST(:backtest_config AS jsonb), :data_fingerprint, :data_rows, CAST(:package_versions AS jsonb),
        :git_commit)
