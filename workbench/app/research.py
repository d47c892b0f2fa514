"""Research operations on a connected Workbench: load -> run the pure core -> store (the I/O edge)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from workbench.app.context import SessionContext
from workbench.app.notify import notify
from workbench.core.backtest import (
    BacktestConfig,
    BacktestResult,
    OverfittingReport,
    WalkForwardResult,
    combo_key,
    daily_returns,
    overfitting_report,
    prepare_data,
    run_backtest,
    run_sweep,
    sweep_strategies,
    walk_forward,
)
from workbench.core.markets import TimeLike, normalize_symbol, normalize_timeframe, timeframe_seconds
from workbench.core.strategies.base import Strategy
from workbench.errors import ValidationError
from workbench.store.cache import strategy_status_key
from workbench.store.market_data import load_candles
from workbench.store.runs import backtesting, save_result, save_strategy
from workbench.store.sweep_items import load_sweep_items, save_sweep_result

__all__ = ["ResearchContext", "StoredRun", "SweepOutcome", "backtest", "benchmark_close", "load_market",
           "overfitting_of", "run_config", "sweep",
           "store_walk_forward", "sweep_uuid", "symbol_list",
           "walk_forward_study"]


#: what research needs of a connected workbench: :class:`workbench.app.context.SessionContext`
ResearchContext = SessionContext


@dataclass(frozen=True)
class StoredRun:
    result: BacktestResult
    backtest_id: int | None
    strategy_id: int | None
    run_id: uuid.UUID

    def _repr_html_(self) -> str:
        return f"backtest id {self.backtest_id}<br>" + self.result._repr_html_()


@dataclass(frozen=True)
class SweepOutcome:
    table: pd.DataFrame
    sweep_id: uuid.UUID
    skipped: list[tuple[dict[str, Any], str]]
    overfitting: OverfittingReport | None = None   # DSR and PBO over the combinations' daily returns


def symbol_list(symbols: str | Sequence[str]) -> list[str]:
    items = [s for s in (symbols.split(",") if isinstance(symbols, str) else symbols) if str(s).strip()]
    if not items:
        raise ValidationError("symbols: give at least one symbol, e.g. 'KRW-BTC' or 'KRW-BTC,KRW-ETH'")
    out = [normalize_symbol(str(s)) for s in items]
    if len(set(out)) != len(out):
        raise ValidationError(f"symbols: duplicates in {out}")
    return out


def load_market(wb: ResearchContext, symbols: str | Sequence[str], timeframe: str, start: TimeLike | None,
                end: TimeLike | None) -> dict[str, pd.DataFrame]:
    """Candles of each symbol (from the database or the cache)."""
    tf = normalize_timeframe(timeframe)
    return {s: load_candles(wb.db, s, tf, start, end, cache=wb.cache) for s in symbol_list(symbols)}


def run_config(config: BacktestConfig | None, benchmark: str | None = None,
               risk_free_rate: float | None = None) -> BacktestConfig:
    """``config`` (default: ``BacktestConfig()``) with ``benchmark`` and ``risk_free_rate`` when given."""
    config = config or BacktestConfig()
    changes: dict[str, Any] = {}
    if benchmark is not None:
        changes["benchmark"] = benchmark
    if risk_free_rate is not None:
        changes["risk_free_rate"] = risk_free_rate
    return replace(config, **changes) if changes else config


def benchmark_close(wb: ResearchContext, config: BacktestConfig, symbols: Sequence[str], timeframe: str,
                    start: TimeLike | None, end: TimeLike | None) -> pd.Series | None:
    """The close prices of ``config.benchmark`` over the run's range when it names a symbol that is not
    traded (None otherwise: the engine takes a traded symbol's from the run's data)."""
    symbol = config.benchmark_symbol
    if symbol is None or symbol in symbols:
        return None
    frame = load_candles(wb.db, symbol, normalize_timeframe(timeframe), start, end, cache=wb.cache)
    return frame["close"]


def _status(wb: ResearchContext, strategy_id: int | None, state: str, **extra: Any) -> None:
    if strategy_id is not None:
        wb.cache.set_json(strategy_status_key(strategy_id), {"state": state, **extra})


def backtest(wb: ResearchContext, strategy: Strategy, symbols: str | Sequence[str], timeframe: str,
             start: TimeLike | None = None, end: TimeLike | None = None, *,
             config: BacktestConfig | None = None, store: bool = True, close_at_end: bool = False,
             benchmark: str | None = None, risk_free_rate: float | None = None) -> StoredRun:
    """Load, backtest and (by default) store one run with its manifest (``close_at_end``: close positions
    still open at the last close). ``benchmark`` (``"equal-weight"``, ``"none"`` or a symbol such as
    ``"KRW-BTC"``) and ``risk_free_rate`` (annual fraction) override ``config``'s; both are stored with the
    run's config, so ``rerun`` repeats them."""
    tf = normalize_timeframe(timeframe)
    config = run_config(config, benchmark, risk_free_rate)
    data = load_market(wb, symbols, tf, start, end)
    bench = benchmark_close(wb, config, list(data), tf, start, end)
    run_id = uuid.uuid4()
    sid = save_strategy(wb.db, wb.user_id, strategy) if store else None
    _status(wb, sid, "backtesting", run_id=str(run_id))
    with backtesting(wb.db, sid):
        result = run_backtest(data, strategy, config, timeframe=tf, close_at_end=close_at_end,
                              benchmark_close=bench)
        bid = (save_result(wb.db, wb.user_id, sid, result, run_id=run_id, close_at_end=close_at_end)
               if sid is not None else None)
    _status(wb, sid, "idle", last_backtest_id=bid)
    return StoredRun(result, bid, sid, run_id)


def sweep(wb: ResearchContext, strategy: Strategy, grid: Mapping[str, Sequence[object]], symbols: str | Sequence[str],
          timeframe: str, start: TimeLike | None = None, end: TimeLike | None = None, *,
          config: BacktestConfig | None = None, chunk_size: int = 8, store: bool = True,
          progress: bool = True, sweep_id: uuid.UUID | str | None = None) -> SweepOutcome:
    """Grid sweep; with ``store`` every combination becomes a backtest_results row (same sweep_id) and a
    ``sweep_items`` row, written together.

    Resumable: given the ``sweep_id`` of an earlier, interrupted sweep (same strategy and data), the
    combinations stored under it are not run again and their rows come from the database; the table
    holds every combination of the grid, in grid order. A sweep id whose rows were computed on other data
    (another data fingerprint) is refused.
    """
    tf = normalize_timeframe(timeframe)
    md = prepare_data(load_market(wb, symbols, tf, start, end), timeframe=tf)
    sid_ = sweep_uuid(sweep_id) if sweep_id is not None else uuid.uuid4()
    stored = {item.combo_key: item for item in load_sweep_items(wb.db, sid_)} if store else {}
    other = {i.data_fingerprint for i in stored.values()} - {md.fingerprint}
    if other:
        raise ValidationError(f"sweep {sid_} was run on other data (fingerprint {sorted(other)[0][:12]}..., now "
                              f"{md.fingerprint[:12]}...): resume it on the same symbols, timeframe and range")
    sid = save_strategy(wb.db, wb.user_id, strategy) if store else None
    rows: dict[str, dict[str, Any]] = {k: {**{p: i.params[p] for p in strategy.params if p in i.params},
                                           **i.metrics, "backtest_id": i.backtest_id} for k, i in stored.items()}
    returns: dict[str, pd.Series] = {k: i.daily_returns for k, i in stored.items()}

    def keep(result: BacktestResult) -> None:
        key = combo_key(result.params)
        returns[key] = daily_returns(result.equity, result.config.initial_capital)
        bid: int | None = None
        if store:
            _, bid = save_sweep_result(wb.db, wb.user_id, sid, result, sid_, key=key)
        rows[key] = {**result.params, **result.metrics.to_dict(), "backtest_id": bid}

    _status(wb, sid, "sweeping", sweep_id=str(sid_))
    with backtesting(wb.db, sid):
        run_sweep(md, strategy, grid, config, chunk_size=chunk_size, progress=progress, on_result=keep,
                  skip=set(stored))
    _status(wb, sid, "idle", last_sweep_id=str(sid_))
    strategies, skipped = sweep_strategies(strategy, grid)
    order = [combo_key(s.params) for s in strategies]
    grid_keys = [k for k in order if k in rows]
    table = pd.DataFrame([rows[key] for key in grid_keys])
    table.attrs["params"] = [dict(s.params) for s in strategies if combo_key(s.params) in rows]
    table.attrs["skipped"] = skipped
    table.attrs["resumed"] = len(stored)
    outcome = SweepOutcome(table, sid_, skipped, overfitting_of({k: returns[k] for k in grid_keys}))
    notify(wb, "sweep_finished", f"sweep {sid_} of {strategy.name} on {_names(symbols)} {tf} finished: "
                                 f"{len(table):,} combinations", sweep_id=str(sid_), strategy=strategy.name,
           combinations=len(table))
    return outcome


def _names(symbols: str | Sequence[str]) -> str:
    return symbols if isinstance(symbols, str) else ",".join(symbols)


def sweep_uuid(value: uuid.UUID | str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise ValidationError(f"sweep id {value!r} is not a UUID") from None


def overfitting_of(returns: Mapping[str, pd.Series]) -> OverfittingReport | None:
    """DSR and PBO of a sweep's combinations (None when there are fewer than 2 days of returns)."""
    if not returns or min(len(r) for r in returns.values()) < 2:
        return None
    return overfitting_report(pd.DataFrame(dict(returns)))


def walk_forward_study(wb: ResearchContext, strategy: Strategy, grid: Mapping[str, Sequence[object]],
                       symbols: str | Sequence[str], timeframe: str, start: TimeLike | None = None,
                       end: TimeLike | None = None, *, config: BacktestConfig | None = None,
                       mode: str = "rolling", n_folds: int | None = None, train_bars: int | None = None,
                       test_bars: int | None = None, train_fraction: float | None = None,
                       metric: str = "sharpe_ratio", overfitting: bool = True, store: bool = True,
                       progress: bool = True) -> WalkForwardResult:
    """Walk-forward test (see :func:`workbench.core.backtest.walk_forward`); with ``store`` each fold's
    out-of-sample run is stored (split out_of_sample) and so is the stitched out-of-sample run (split
    walk_forward), all under one sweep id."""
    tf = normalize_timeframe(timeframe)
    config = config or BacktestConfig()
    data = load_market(wb, symbols, tf, start, end)
    with backtesting(wb.db, save_strategy(wb.db, wb.user_id, strategy) if store else None):
        wf = walk_forward(data, strategy, grid, config, timeframe=tf, mode=mode, n_folds=n_folds,
                          train_bars=train_bars, test_bars=test_bars, train_fraction=train_fraction,
                          metric=metric, overfitting=overfitting,
                          benchmark_close=benchmark_close(wb, config, list(data), tf, start, end), progress=progress)
        if store:
            store_walk_forward(wb, strategy, wf)
    return wf


def store_walk_forward(wb: ResearchContext, strategy: Strategy, wf: WalkForwardResult) -> None:
    """Store each fold's out-of-sample run (split out_of_sample) and the stitched run (split walk_forward)
    under one sweep id; their ids go into ``wf.folds``."""
    sid = save_strategy(wb.db, wb.user_id, strategy)
    group = uuid.uuid4()
    step = pd.Timedelta(seconds=timeframe_seconds(wf.stitched.timeframe))
    ids = []
    fold: Any   # a row of wf.folds (itertuples: the window's timestamps as attributes)
    for r, fold in zip(wf.out_of_sample, wf.folds.itertuples(index=False), strict=True):
        ids.append(save_result(wb.db, wb.user_id, sid, r, sweep_id=group, split="out_of_sample",
                               window=(fold.train_start, fold.test_end + step), trade_start=fold.test_start,
                               close_at_end=True))
    wf.folds["backtest_id"] = ids
    wf.folds.attrs["stitched_backtest_id"] = save_result(wb.db, wb.user_id, sid, wf.stitched, sweep_id=group,
                                                         split="walk_forward")
    wf.folds.attrs["sweep_id"] = str(group)
