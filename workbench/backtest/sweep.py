"""Parameter sweeps (grid search) in memory-bounded chunks, and walk-forward / out-of-sample tests."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.backtest.config import BacktestConfig
from workbench.backtest.engine import (
    BacktestResult,
    MarketData,
    _run,
    group_result,
    prepare_data,
    run_backtest,
    strategy_signals,
    trade_start_index,
)
from workbench.errors import StrategyError, ValidationError
from workbench.strategies.base import Strategy

__all__ = ["WalkForwardResult", "parameter_grid", "run_sweep", "walk_forward"]


def parameter_grid(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """All combinations of ``grid`` values, in order.

    >>> parameter_grid({"fast": [5, 8], "slow": [21]})
    [{'fast': 5, 'slow': 21}, {'fast': 8, 'slow': 21}]
    """
    if not grid:
        raise ValidationError("parameter grid is empty")
    for k, v in grid.items():
        if isinstance(v, str) or not isinstance(v, Sequence) or len(v) == 0:
            raise ValidationError(f"parameter grid: {k!r} needs a non-empty list of values (got {v!r})")
    keys = list(grid)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(grid[k] for k in keys))]


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _progress(total: int, desc: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, unit="combo")


def run_sweep(
    data: pd.DataFrame | Mapping[str, pd.DataFrame] | MarketData,
    strategy: Strategy,
    grid: Mapping[str, Sequence[Any]],
    config: BacktestConfig | None = None,
    *,
    timeframe: str = "1h",
    symbol: str = "ASSET",
    chunk_size: int = 8,
    trade_start: Any = None,
    progress: bool = True,
    on_result: Callable[[BacktestResult], None] | None = None,
) -> pd.DataFrame:
    """Backtest every parameter combination of ``grid``; one row of metrics per combination.

    Combinations that fail the strategy's parameter rules (e.g. fast >= slow) are skipped and listed
    in the ``skipped`` attribute of the returned frame. Combinations run ``chunk_size`` at a time in
    one vectorbt call, so memory stays bounded by the chunk (about 85 MB per combination per 500k bars
    and symbol). ``on_result`` receives each combination's full :class:`BacktestResult` (e.g. to store
    it) before the chunk's memory is released.
    """
    if chunk_size < 1:
        raise ValidationError(f"chunk_size must be >= 1 (got {chunk_size})")
    config = config or BacktestConfig()
    md = data if isinstance(data, MarketData) else prepare_data(data, timeframe=timeframe, symbol=symbol)
    begin = trade_start_index(md, trade_start)
    strategies: list[Strategy] = []
    skipped: list[tuple[dict[str, Any], str]] = []
    for combo in parameter_grid(grid):
        try:
            strategies.append(strategy.with_params(**combo))
        except StrategyError as err:
            skipped.append((combo, str(err)))
    if not strategies:
        raise ValidationError(f"every combination of the grid is invalid, e.g. {skipped[0][1]}")
    rows = []
    with _progress(len(strategies), f"sweep {strategy.name}", progress) as bar:
        for chunk in _chunks(strategies, chunk_size):
            t0 = time.perf_counter()
            sigs = [strategy_signals(s, md) for s in chunk]
            entries = np.concatenate([e for e, _ in sigs], axis=1)
            exits = np.concatenate([x for _, x in sigs], axis=1)
            entries[:begin] = False
            sim = _run(md, entries, exits, chunk, config)
            elapsed = (time.perf_counter() - t0) / len(chunk)
            for g, strat in enumerate(chunk):
                result = group_result(sim, g, strat, md, config, begin, elapsed)
                if on_result is not None:
                    on_result(result)
                rows.append({**strat.params, **result.metrics.to_dict()})
            del sim, entries, exits, sigs
            bar.update(len(chunk))
    out = pd.DataFrame(rows)
    out.attrs["skipped"] = skipped
    return out


@dataclass(frozen=True)
class WalkForwardResult:
    """Per fold: the window bounds, the parameters chosen in-sample and their out-of-sample metrics."""

    folds: pd.DataFrame
    out_of_sample: list[BacktestResult]
    metric: str

    def summary(self) -> pd.Series:
        oos = self.folds
        return pd.Series(dtype=object, data={
            "folds": len(oos),
            f"mean_in_sample_{self.metric}": oos[f"is_{self.metric}"].mean(),
            f"mean_out_of_sample_{self.metric}": oos[f"oos_{self.metric}"].mean(),
            "compounded_oos_return": float(np.prod(1 + oos["oos_total_return"]) - 1),
            "oos_trades": int(oos["oos_total_trades"].sum()),
        })


def walk_forward(
    data: pd.DataFrame | Mapping[str, pd.DataFrame],
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
    first ``train_fraction`` picks the best parameters by ``metric`` (in-sample sweep) and the rest tests
    them out of sample. Out-of-sample runs see the in-sample bars only as indicator warm-up.
    """
    if n_folds < 1:
        raise ValidationError(f"n_folds must be >= 1 (got {n_folds})")
    if not 0.1 <= train_fraction <= 0.95:
        raise ValidationError(f"train_fraction must be in [0.1, 0.95] (got {train_fraction})")
    md = prepare_data(data, timeframe=timeframe, symbol=symbol)
    n = len(md.index)
    bounds = np.linspace(0, n, n_folds + 1).astype(int)
    rows, results = [], []
    for fold in range(n_folds):
        lo, hi = bounds[fold], bounds[fold + 1]
        split = lo + int((hi - lo) * train_fraction)
        if split - lo < 10 or hi - split < 2:
            raise ValidationError(f"fold {fold}: window of {hi - lo} bars is too short to split")
        window = {s: f.iloc[lo:hi][md.tradeable[s].iloc[lo:hi].to_numpy()] for s, f in md.frames.items()}
        train = {s: f.iloc[lo:split][md.tradeable[s].iloc[lo:split].to_numpy()] for s, f in md.frames.items()}
        table = run_sweep(train, strategy, grid, config, timeframe=md.timeframe, chunk_size=chunk_size,
                          progress=progress)
        if metric not in table.columns:
            raise ValidationError(f"metric {metric!r} is not one of the metrics {list(table.columns)}")
        best = table.sort_values(metric, ascending=False, kind="stable").iloc[0]
        params = {k: _py(best[k]) for k in grid}
        oos = run_backtest(window, strategy.with_params(**params), config, timeframe=md.timeframe,
                           trade_start=md.index[split])
        results.append(oos)
        rows.append({
            "fold": fold, "train_start": md.index[lo], "train_end": md.index[split - 1],
            "test_start": md.index[split], "test_end": md.index[hi - 1], **params,
            f"is_{metric}": float(best[metric]),
            **{f"oos_{k}": v for k, v in oos.metrics.to_dict().items()},
        })
    return WalkForwardResult(pd.DataFrame(rows), results, metric)


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v
