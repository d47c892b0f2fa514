"""The pure core: markets, data quality, indicators, strategies, the backtest engine, the paper broker's
fill rules and the metric registry. Nothing here touches a database, a cache, the network or a
subprocess (an import-linter contract in pyproject.toml holds it)."""
