"""Backtests on vectorbt: engine, metrics, sweeps, walk-forward, storage."""

from workbench.backtest.config import BITHUMB_FEE_RATE, BacktestConfig
from workbench.backtest.engine import BacktestResult, MarketData, prepare_data, run_backtest
from workbench.backtest.stats import Metrics, compute_metrics
from workbench.backtest.sweep import WalkForwardResult, parameter_grid, run_sweep, walk_forward

__all__ = [
    "BITHUMB_FEE_RATE",
    "BacktestConfig",
    "BacktestResult",
    "MarketData",
    "Metrics",
    "WalkForwardResult",
    "compute_metrics",
    "parameter_grid",
    "prepare_data",
    "run_backtest",
    "run_sweep",
    "walk_forward",
]
