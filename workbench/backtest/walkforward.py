"""Walk-forward tests: parameters chosen in-sample, tested out of sample, the out-of-sample runs stitched."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.backtest.config import BacktestConfig
from workbench.backtest.data import MarketData, prepare_data
from workbench.backtest.engine import run_backtest
from workbench.backtest.result import BacktestResult
from workbench.backtest.stats import METRIC_INFO, Metrics, compute_metrics
from workbench.backtest.sweep import run_sweep
from workbench.errors import ValidationError
from workbench.strategies.base import Strategy

__all__ = ["RANKABLE_METRICS", "WalkForwardResult", "best_row", "stitch", "walk_forward", "walk_forward_fold"]

#: metrics a walk-forward (or any ranking) can choose parameters by: those with a direction
RANKABLE_METRICS: tuple[str, ...] = tuple(k for k, v in METRIC_INFO.items() if v.higher_is_better is not None)


def check_metric(metric: str) -> bool:
    """``metric``'s direction (True: higher is better); a ValidationError for any other name."""
    info = METRIC_INFO.get(metric)
    if info is None or info.higher_is_better is None:
        raise ValidationError(f"metric {metric!r} cannot rank parameters; choose one of "
                              f"{', '.join(RANKABLE_METRICS)}")
    return info.higher_is_better


def best_row(table: pd.DataFrame, metric: str) -> int:
    """Position of the best row of a sweep table by ``metric`` in its direction (NaN ranks last; ties:
    the first row)."""
    higher = check_metric(metric)
    values = table[metric].to_numpy(dtype="float64")
    score = np.where(np.isnan(values), -np.inf, values if higher else -values)
    return int(np.argmax(score))


@dataclass(frozen=True, eq=False)
class WalkForwardResult:
    """Per fold: the window bounds, the parameters chosen in-sample and their out-of-sample metrics;
    ``stitched`` chains the out-of-sample runs into one equity curve (each fold starting where the
    previous one ended)."""

    folds: pd.DataFrame
    out_of_sample: list[BacktestResult] = field(repr=False)
    metric: str
    stitched: BacktestResult = field(repr=False)

    @property
    def equity(self) -> pd.Series:
        return self.stitched.equity

    @property
    def metrics(self) -> Metrics:
        return self.stitched.metrics

    def summary(self) -> pd.Series:
        f = self.folds
        return pd.Series(dtype=object, data={
            "folds": len(f),
            f"mean_in_sample_{self.metric}": f[f"is_{self.metric}"].mean(),
            f"mean_out_of_sample_{self.metric}": f[f"oos_{self.metric}"].mean(),
            "stitched_oos_return": self.metrics.total_return,
            f"stitched_oos_{self.metric}": self.metrics[self.metric],
            "oos_trades": self.metrics.total_trades,
        })


def _window(md: MarketData, lo: int, hi: int) -> dict[str, pd.DataFrame]:
    return {s: f.iloc[lo:hi][md.tradeable[s].iloc[lo:hi].to_numpy()] for s, f in md.frames.items()}


def stitch(results: Sequence[BacktestResult], md: MarketData, config: BacktestConfig,
           fold_params: list[dict[str, Any]]) -> BacktestResult:
    """One result of consecutive out-of-sample runs: fold k's equity, benchmark and trade amounts scaled
    by the previous folds' growth, so the stitched curve compounds."""
    capital = config.initial_capital
    equity_parts, bench_parts, trade_parts = [], [], []
    scale = bench_scale = 1.0
    exposed = 0.0
    for r in results:
        equity_parts.append(r.equity * scale)
        bench_parts.append(r.benchmark * bench_scale)
        t = r.trades.copy()
        for col in ("size", "fees", "pnl"):
            t[col] = t[col] * scale
        trade_parts.append(t)
        exposed += r.metrics.exposure * len(r.equity)
        scale *= float(r.equity.iloc[-1]) / capital
        bench_scale *= float(r.benchmark.iloc[-1]) / capital
    equity = pd.concat(equity_parts).rename("equity")
    bench = pd.concat(bench_parts).rename("benchmark")
    trades = pd.concat(trade_parts, ignore_index=True)
    metrics = compute_metrics(equity, trades, initial_capital=capital, benchmark=bench,
                              exposure=exposed / len(equity))
    first = results[0]
    return BacktestResult(
        strategy_name=first.strategy_name, strategy_type=first.strategy_type,
        strategy_class=first.strategy_class, params={"walk_forward_folds": fold_params}, risk=first.risk,
        config=config, symbols=first.symbols, timeframe=first.timeframe, equity=equity, benchmark=bench,
        trades=trades, metrics=metrics, execution_time=sum(r.execution_time for r in results), data=md,
    )


def walk_forward_fold(md: MarketData, strategy: Strategy, grid: Mapping[str, Sequence[Any]], config: BacktestConfig,
                      fold: int, *, n_folds: int, train_fraction: float, metric: str, chunk_size: int = 8,
                      progress: bool = False) -> tuple[dict[str, Any], BacktestResult, dict[str, Any]]:
    """Fold ``fold`` of ``n_folds`` of :func:`walk_forward` on its own (e.g. as one task of a cluster):
    the fold's row, its out-of-sample run and the parameters chosen in sample."""
    bounds = np.linspace(0, len(md.index), n_folds + 1).astype(int)
    lo, hi = int(bounds[fold]), int(bounds[fold + 1])
    split = lo + int((hi - lo) * train_fraction)
    if split - lo < 10 or hi - split < 2:
        raise ValidationError(f"fold {fold}: window of {hi - lo} bars is too short to split")
    table = run_sweep(_window(md, lo, split), strategy, grid, config, timeframe=md.timeframe,
                      chunk_size=chunk_size, progress=progress)
    best = best_row(table, metric)
    params = dict(table.attrs["params"][best])
    oos = run_backtest(_window(md, lo, hi), strategy.with_params(**params), config,
                       timeframe=md.timeframe, trade_start=md.index[split])
    is_value = float(table[metric].iloc[best])
    row = {
        "fold": fold, "train_start": md.index[lo], "train_end": md.index[split - 1],
        "test_start": md.index[split], "test_end": md.index[hi - 1], **params,
        f"is_{metric}": is_value if math.isfinite(is_value) else float("nan"),
        **{f"oos_{k}": v for k, v in oos.metrics.to_dict().items()},
    }
    return row, oos, params


def walk_forward(
    data: pd.DataFrame | Mapping[str, pd.DataFrame] | MarketData,
    strategy: Strategy,
    grid: Mapping[str, Sequence[Any]],
    config: BacktestConfig | None = None,
    *,
    timeframe: str = "1h",
    symbol: str = "ASSET",
    n_folds: int = 4,
    train_fraction: float = 0.7,
    metric: str = "sharpe_ratio",
    chunk_size: int = 8,
    progress: bool = True,
) -> WalkForwardResult:
    """Rolling walk-forward: the history is cut into ``n_folds`` consecutive windows; in each window the
    first ``train_fraction`` picks the best parameters by ``metric`` (in its direction: the lowest
    max_drawdown, the highest Sharpe) and the rest tests them out of sample. Out-of-sample runs see the
    in-sample bars only as indicator warm-up.
    """
    check_metric(metric)
    if not isinstance(n_folds, int) or n_folds < 1:
        raise ValidationError(f"n_folds must be an integer >= 1 (got {n_folds!r})")
    if not 0.1 <= train_fraction <= 0.95:
        raise ValidationError(f"train_fraction must be in [0.1, 0.95] (got {train_fraction})")
    config = config or BacktestConfig()
    md = prepare_data(data, timeframe=timeframe, symbol=symbol)
    rows, results, chosen = [], [], []
    for fold in range(n_folds):
        row, oos, params = walk_forward_fold(md, strategy, grid, config, fold, n_folds=n_folds,
                                             train_fraction=train_fraction, metric=metric, chunk_size=chunk_size,
                                             progress=progress)
        rows.append(row)
        results.append(oos)
        chosen.append(params)
    return WalkForwardResult(pd.DataFrame(rows), results, metric, stitch(results, md, config, chosen))
