SELECT b.*, m.run_id, m.sweep_id, m.split, m.strategy_class, m.parameters, m.backtest_config,
       m.data_fingerprint, m.data_rows, m.package_versions, m.git_commit, s.name AS strategy_name
FROM backtest_results AS b
JOIN strategies AS s ON s.id = b.strategy_id
LEFT JOIN backtest_manifests AS m ON m.backtest_result_id = b.id
WHERE b.id = :id
