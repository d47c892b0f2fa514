"""Parameter sweeps (grid search) in memory-bounded chunks, indicators computed once per distinct value."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Any

import pandas as pd

from workbench.core.backtest.config import BacktestConfig
from workbench.core.backtest.data import MarketData, prepare_data
from workbench.core.backtest.engine import run_strategies, trade_start_index
from workbench.core.backtest.result import BacktestResult, benchmark_curve
from workbench.core.indicators import indicator_cache
from workbench.core.markets import TimeLike
from workbench.core.strategies.base import Strategy
from workbench.errors import StrategyError, ValidationError

__all__ = ["combo_key", "parameter_grid", "run_sweep", "sweep_strategies"]


def parameter_grid(grid: Mapping[str, Sequence[object]]) -> list[dict[str, object]]:
    """All combinations of ``grid`` values, in order (values keep their Python types).

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


def combo_key(params: Mapping[str, object]) -> str:
    """A combination's identity within a sweep: canonical JSON of its parameters.

    >>> combo_key({"slow": 21, "fast": 5})
    '{"fast":5,"slow":21}'
    """
    return json.dumps(dict(params), sort_keys=True, separators=(",", ":"), default=str)


def sweep_strategies(strategy: Strategy, grid: Mapping[str, Sequence[object]]
                     ) -> tuple[list[Strategy], list[tuple[dict[str, object], str]]]:
    """The strategy with each combination of ``grid``, and the combinations its rules reject (with why)."""
    unknown = sorted(set(grid) - set(strategy.params))
    if unknown:
        raise ValidationError(f"parameter grid: {unknown} not parameter(s) of {strategy.name}; "
                              f"known: {sorted(strategy.params)}")
    strategies: list[Strategy] = []
    skipped: list[tuple[dict[str, object], str]] = []
    for combo in parameter_grid(grid):
        try:
            strategies.append(strategy.with_params(**combo))
        except StrategyError as err:
            skipped.append((combo, str(err)))
    if not strategies:
        raise ValidationError(f"every combination of the grid is invalid, e.g. {skipped[0][1]}")
    return strategies, skipped


def _chunks(items: list[Strategy], size: int) -> Iterator[list[Strategy]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _chunk_rows(md: MarketData, chunk: list[Strategy], config: BacktestConfig, begin: int,
                bench: pd.Series | None, on_result: Callable[[BacktestResult], None] | None) -> list[dict[str, Any]]:
    """The rows of one chunk; its results (equity, kernel outputs) are released on return, before the next
    chunk runs (a loop variable would keep the last one alive through the next chunk's kernel call)."""
    rows = []
    for result in run_strategies(md, chunk, config, begin=begin, benchmark=bench):
        if on_result is not None:
            on_result(result)
        rows.append({**result.params, **result.metrics.to_dict()})
    return rows


def run_sweep(
    data: pd.DataFrame | Mapping[str, pd.DataFrame] | MarketData,
    strategy: Strategy,
    grid: Mapping[str, Sequence[object]],
    config: BacktestConfig | None = None,
    *,
    timeframe: str = "1h",
    symbol: str = "ASSET",
    chunk_size: int = 8,
    trade_start: TimeLike | None = None,
    progress: bool = True,
    on_result: Callable[[BacktestResult], None] | None = None,
    skip: Collection[str] = (),
) -> pd.DataFrame:
    """Backtest every parameter combination of ``grid``; one row of parameters and metrics per combination.

    Combinations that fail the strategy's parameter rules (e.g. fast >= slow) are skipped and listed in
    ``table.attrs["skipped"]``; ``table.attrs["params"]`` holds each row's parameters with their Python
    types. Combinations run ``chunk_size`` at a time in one kernel call, so memory is bounded by the chunk
    (about 10 bytes per bar, symbol and combination); each indicator is computed once per distinct
    parameter value over the whole sweep. ``on_result`` receives each combination's full
    :class:`BacktestResult` (e.g. to store it) before the chunk's memory is released. Combinations whose
    :func:`combo_key` is in ``skip`` (e.g. stored by an earlier, interrupted run) are not run: they have no
    row, and ``table.attrs["params"]`` lists the rows' parameters only.
    """
    if chunk_size < 1:
        raise ValidationError(f"chunk_size must be >= 1 (got {chunk_size})")
    config = config or BacktestConfig()
    md = prepare_data(data, timeframe=timeframe, symbol=symbol)
    begin = trade_start_index(md, trade_start)
    strategies, skipped = sweep_strategies(strategy, grid)
    if skip:
        strategies = [s for s in strategies if combo_key(s.params) not in skip]
    from tqdm.auto import tqdm

    rows: list[dict[str, Any]] = []
    bench = benchmark_curve(md, config, begin)   # the same for every chunk
    with indicator_cache(), tqdm(total=len(strategies), desc=f"sweep {strategy.name}", unit="combo",
                                 disable=not progress) as bar:
        for chunk in _chunks(strategies, chunk_size):
            rows += _chunk_rows(md, chunk, config, begin, bench, on_result)
            bar.update(len(chunk))
    out = pd.DataFrame(rows)
    out.attrs["skipped"] = skipped
    out.attrs["params"] = [dict(s.params) for s in strategies]
    return out
