"""Backtests on a numba engine: data, fill rules, metrics, sweeps, walk-forward (pure: no I/O)."""

from workbench.core.backtest.config import BENCHMARK_KINDS, BITHUMB_FEE_RATE, BacktestConfig
from workbench.core.backtest.data import MarketData, prepare_data
from workbench.core.backtest.engine import run_backtest, run_strategies, strategy_signals
from workbench.core.backtest.overfitting import (
    OverfittingReport,
    PboResult,
    deflated_sharpe_ratio,
    overfitting_report,
    probability_of_backtest_overfitting,
)
from workbench.core.backtest.result import BacktestResult, benchmark_curve, buy_and_hold, finite_or_none
from workbench.core.backtest.stats import METRIC_INFO, MetricInfo, Metrics, compute_metrics, daily_returns
from workbench.core.backtest.sweep import combo_key, parameter_grid, run_sweep, sweep_strategies
from workbench.core.backtest.walkforward import (
    MODES,
    RANKABLE_METRICS,
    FoldWindow,
    WalkForwardResult,
    best_row,
    check_metric,
    walk_forward,
    walk_forward_windows,
)

__all__ = [
    "BENCHMARK_KINDS",
    "BITHUMB_FEE_RATE",
    "METRIC_INFO",
    "MODES",
    "RANKABLE_METRICS",
    "BacktestConfig",
    "BacktestResult",
    "FoldWindow",
    "MarketData",
    "MetricInfo",
    "Metrics",
    "OverfittingReport",
    "PboResult",
    "WalkForwardResult",
    "benchmark_curve",
    "best_row",
    "buy_and_hold",
    "check_metric",
    "combo_key",
    "compute_metrics",
    "daily_returns",
    "deflated_sharpe_ratio",
    "finite_or_none",
    "overfitting_report",
    "parameter_grid",
    "prepare_data",
    "probability_of_backtest_overfitting",
    "run_backtest",
    "run_strategies",
    "run_sweep",
    "strategy_signals",
    "sweep_strategies",
    "walk_forward",
    "walk_forward_windows",
]
