"""Stored runs side by side, each with its benchmark: the benchmark's equity is not stored with a run, so it
is recomputed from the stored candles of the run's window, as its config names it (equal-weight buy & hold
of its symbols, one symbol's, or none).

>>> from workbench.app.compare import compare_runs
>>> compared = compare_runs(wb, [12, 15, 17])   # doctest: +SKIP
>>> compared.runs[["id", "total_return", "benchmark_return"]]   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from workbench.app.research import ResearchContext, benchmark_close, load_market
from workbench.core.backtest import benchmark_curve, prepare_data
from workbench.core.markets import timeframe_seconds
from workbench.errors import DataNotFoundError
from workbench.store.runs import StoredRun, load_run, stored_config, stored_symbols, stored_timeframe

__all__ = ["ComparedRuns", "compare_runs", "run_benchmark"]


@dataclass(frozen=True)
class ComparedRuns:
    """``runs``: one row per run (the columns of ``Workbench.run``, plus ``symbols``, ``benchmark_return``
    and ``excess_return``), in the order asked; ``stored``: id -> the stored run; ``benchmarks``: id -> its
    benchmark equity (None: no benchmark, or its candles are no longer stored)."""

    runs: pd.DataFrame
    stored: dict[int, StoredRun]
    benchmarks: dict[int, pd.Series | None]


def run_benchmark(wb: ResearchContext, run: StoredRun) -> pd.Series | None:
    """The benchmark equity of stored run ``run`` (``Workbench.run(id)``) on its equity's bars, from the
    stored candles of its window; None when its config has no benchmark or the candles are gone."""
    equity = run["equity"]
    config = stored_config(run)
    if config.benchmark == "none" or equity.empty:
        return None
    timeframe, symbols = stored_timeframe(run), stored_symbols(run)
    start = equity.index[0]
    end = equity.index[-1] + pd.Timedelta(seconds=timeframe_seconds(timeframe))
    try:
        md = prepare_data(load_market(wb, symbols, timeframe, start, end), timeframe=timeframe)
        close = benchmark_close(wb, config, list(md.symbols), timeframe, start, end)
    except DataNotFoundError:
        return None
    curve = benchmark_curve(md, config, 0, close)
    if curve is None or curve.empty:
        return None
    return curve.reindex(equity.index, method="ffill")


def compare_runs(wb: ResearchContext, ids: Sequence[int]) -> ComparedRuns:
    """The stored runs ``ids`` (in that order), each with its recomputed benchmark and its return."""
    stored = {int(i): load_run(wb.db, int(i)) for i in ids}
    benchmarks = {i: run_benchmark(wb, run) for i, run in stored.items()}
    rows = []
    for i, run in stored.items():
        bench = benchmarks[i]
        bench_return = float(bench.iloc[-1] / bench.iloc[0] - 1.0) if bench is not None and len(bench) else None
        total = run["total_return"]
        rows.append({**{k: v for k, v in run.items() if k not in ("equity", "equity_curve", "trade_history")},
                     "symbols": stored_symbols(run),
                     "benchmark_return": bench_return,
                     "excess_return": None if bench_return is None or total is None else float(total) - bench_return})
    return ComparedRuns(pd.DataFrame(rows), stored, benchmarks)
