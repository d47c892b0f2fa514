"""Backtests of a Strategy on one or several symbols (pure: no database, no files).

The fill rules (README "Fill rules") are implemented by the kernel in :mod:`workbench.core.backtest._kernel`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from functools import partial
from typing import cast

import numpy as np
import pandas as pd

from workbench.core.backtest.config import BacktestConfig
from workbench.core.backtest.data import MarketData, prepare_data
from workbench.core.backtest.portfolio import portfolio_result, run_portfolio_backtest
from workbench.core.backtest.result import BacktestResult, benchmark_curve
from workbench.core.backtest.simulation import Signals, Simulation, simulate
from workbench.core.backtest.stats import compute_metrics
from workbench.core.markets import TimeLike, to_utc
from workbench.core.strategies.base import Strategy
from workbench.core.strategies.portfolio import PortfolioStrategy
from workbench.errors import ValidationError

__all__ = ["group_result", "run_backtest", "run_strategies", "strategy_signals", "trade_start_index"]


def strategy_signals(strategy: Strategy, md: MarketData) -> Signals:
    """Shifted entry/exit arrays (bars x symbols) of ``strategy`` on each symbol's own bars, and the
    order prices and sizes it gives (NaN where it gives none)."""
    n = len(md.index)
    entries = np.zeros((n, len(md.symbols)), dtype=bool)
    exits = np.zeros_like(entries)
    extra: dict[str, np.ndarray] = {}
    for j, s in enumerate(md.symbols):
        own = md.own_frame(s)
        # strategy.signals(own), i.e. the decisions shifted one bar along the symbol's own bars, without
        # the frame's shift (a copy of both columns per call; this runs once per combination of a sweep)
        entry, exit_, orders = strategy.decision_arrays(own)
        rows = slice(1, None) if len(own) == n else md.index.get_indexer(own.index)[1:]
        entries[rows, j] = entry[:-1]
        exits[rows, j] = exit_[:-1]
        for label, values in orders.items():
            if label not in extra:
                extra[label] = np.full((n, len(md.symbols)), np.nan)
            extra[label][rows, j] = values[:-1]
    return Signals(entries, exits, **extra)


def trade_start_index(md: MarketData, trade_start: TimeLike | None) -> int:
    """Position of the first bar at or after ``trade_start`` (0 when None)."""
    if trade_start is None:
        return 0
    ts = to_utc(trade_start, name="trade_start")
    begin = int(md.index.searchsorted(ts))
    if begin >= len(md.index) - 1:
        raise ValidationError(f"trade_start {ts} leaves fewer than 2 bars of data")
    return begin


def group_result(sim: Simulation, group: int, strategy: Strategy, md: MarketData, config: BacktestConfig,
                 begin: int, execution_time: float, benchmark: pd.Series | None = None) -> BacktestResult:
    """The :class:`BacktestResult` of strategy number ``group`` of a :func:`simulate` call.

    The equity is a view of the group's row of ``sim.value`` (groups x bars; the groups' results share that
    array, no copy per group)."""
    equity = pd.Series(sim.value[group, begin:], index=md.index[begin:], name="equity", copy=False)
    bench = benchmark if benchmark is not None else benchmark_curve(md, config, begin)
    # the trade list is built on first read (BacktestResult.trades takes the frame or its builder)
    trade_list = cast(pd.DataFrame, partial(sim.group_trades, group, md))
    metrics = compute_metrics(equity, sim.group_trade_stats(group), initial_capital=config.initial_capital,
                              benchmark=bench, exposure=float(sim.exposed[group]) / len(equity),
                              risk_free_rate=config.risk_free_rate)
    return BacktestResult(
        strategy_name=strategy.name, strategy_type=strategy.strategy_type,
        strategy_class=strategy.class_path, params=dict(strategy.params), risk=strategy.risk.to_dict(),
        config=config, symbols=md.symbols, timeframe=md.timeframe, equity=equity, benchmark=bench,
        trades=trade_list, metrics=metrics, execution_time=execution_time, data=md,
        fill_list=partial(sim.group_fills, group, md),
    )


def run_strategies(md: MarketData, strategies: Sequence[Strategy], config: BacktestConfig, *, begin: int = 0,
                   close_at_end: bool = False,
                   signals: Sequence[Signals | tuple[np.ndarray, np.ndarray]] | None = None,
                   benchmark_close: pd.Series | None = None,
                   benchmark: pd.Series | None = None, started: float | None = None) -> list[BacktestResult]:
    """Backtest several strategies side by side in one kernel call (each with its own cash; portfolio
    strategies, all or none of them, one portfolio engine call each);
    ``benchmark_close``: the close prices of ``config.benchmark`` when it is a symbol not traded;
    ``benchmark``: the benchmark curve if already computed (a sweep computes it once for all its chunks);
    ``started``: the ``time.perf_counter()`` the results' execution time counts from (default: now)."""
    if any(isinstance(s, PortfolioStrategy) for s in strategies):
        return _run_portfolios(md, strategies, config, begin=begin, close_at_end=close_at_end,
                               benchmark_close=benchmark_close, benchmark=benchmark)
    t0 = time.perf_counter() if started is None else started
    sigs = [Signals(*s) for s in signals] if signals is not None else [strategy_signals(s, md) for s in strategies]
    sim = simulate(md, sigs, [s.risk for s in strategies], config, begin=begin, close_at_end=close_at_end)
    bench = benchmark if benchmark is not None else benchmark_curve(md, config, begin, benchmark_close)
    elapsed = (time.perf_counter() - t0) / len(strategies)
    return [group_result(sim, g, s, md, config, begin, elapsed, bench)
            for g, s in enumerate(strategies)]


def _run_portfolios(md: MarketData, strategies: Sequence[Strategy], config: BacktestConfig, *, begin: int,
                    close_at_end: bool, benchmark_close: pd.Series | None,
                    benchmark: pd.Series | None) -> list[BacktestResult]:
    """:func:`run_strategies` of portfolio strategies: one portfolio engine call each (Bithumb's order rules)."""
    if not all(isinstance(s, PortfolioStrategy) for s in strategies):
        raise ValidationError("run_strategies: portfolio and per-symbol strategies cannot share one call")
    bench = benchmark if benchmark is not None else benchmark_curve(md, config, begin, benchmark_close)
    return [portfolio_result(md, s, config, begin=begin, close_at_end=close_at_end, benchmark=bench)
            for s in strategies if isinstance(s, PortfolioStrategy)]


def run_backtest(
    data: pd.DataFrame | Mapping[str, pd.DataFrame] | MarketData,
    strategy: Strategy,
    config: BacktestConfig | None = None,
    *,
    timeframe: str = "1h",
    symbol: str = "ASSET",
    trade_start: TimeLike | None = None,
    close_at_end: bool = False,
    benchmark_close: pd.Series | None = None,
) -> BacktestResult:
    """Backtest ``strategy`` on ``data``.

    Parameters
    ----------
    data : DataFrame, mapping of symbol -> DataFrame, or MarketData
        OHLCV frames indexed by UTC timestamps. Several symbols share one cash account and the
        strategy's ``max_positions``.
    strategy : Strategy
    config : BacktestConfig, optional
        Capital, fee (Bithumb 0.25 % by default), slippage and size rounding.
    timeframe : str
        Bar length of ``data`` (for the stored row).
    symbol : str
        Name of a single frame's symbol.
    trade_start : optional
        No entries before this time; metrics and equity start here. Earlier bars only warm up
        indicators (used for out-of-sample tests).
    close_at_end : bool
        Close positions still open at the last close (with fees); by default they stay open, marked at
        the last close, and are listed with status "open".
    benchmark_close : Series, optional
        Close prices of ``config.benchmark`` when it names a symbol that is not traded (e.g. KRW-BTC
        for a basket of altcoins); a traded symbol's come from ``data``.

    A signal decided on bar t's close fills at bar t+1's open (plus slippage and fees); see the README's
    fill rules for stops. Each position gets ``risk.position_fraction`` of the equity at the open (at most
    the cash left). A :class:`~workbench.core.strategies.portfolio.PortfolioStrategy` runs on the portfolio
    engine (:func:`workbench.core.backtest.portfolio.run_portfolio_backtest`, Bithumb's order rules).
    """
    if isinstance(strategy, PortfolioStrategy):  # target weights across the universe: its own engine
        return run_portfolio_backtest(data, strategy, config, timeframe=timeframe, symbol=symbol,
                                      trade_start=trade_start, close_at_end=close_at_end,
                                      benchmark_close=benchmark_close)
    t0 = time.perf_counter()
    config = config or BacktestConfig()
    md = prepare_data(data, timeframe=timeframe, symbol=symbol)
    begin = trade_start_index(md, trade_start)
    (result,) = run_strategies(md, [strategy], config, begin=begin, close_at_end=close_at_end,
                               benchmark_close=benchmark_close, started=t0)
    return result
