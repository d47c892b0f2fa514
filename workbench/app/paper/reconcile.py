"""Reconciliation of a stored paper run (or an imported trade history) with the backtest of the same
strategy, symbols, window and costs; the arithmetic is :mod:`workbench.core.paper.reconcile`'s."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from workbench.app.paper.runner import PaperContext
from workbench.core.backtest import BacktestConfig, run_backtest
from workbench.core.backtest.portfolio import run_portfolio_backtest
from workbench.core.markets import TimeLike, normalize_timeframe, timeframe_offset, to_utc
from workbench.core.paper.portfolio import portfolio_rules, portfolio_trades, weight_signals
from workbench.core.paper.reconcile import (
    CAUSES,
    Reconciliation,
    backtest_signals,
    check_trades,
    compare_signals,
    executed_signals,
    paper_fills,
    paper_trades,
    partial_trades,
    reconcile_result,
    reconcile_trades,
)
from workbench.core.paper.rules import OrderRules
from workbench.core.strategies.base import Strategy
from workbench.core.strategies.portfolio import PortfolioStrategy
from workbench.errors import DataNotFoundError
from workbench.store.market_data import load_candles
from workbench.store.paper import PaperRunRow, get_run, list_runs, run_frames
from workbench.store.runs import load_strategy

__all__ = ["CAUSES", "Reconciliation", "compare_signals", "paper_trades", "partial_trades", "reconcile_history",
           "reconcile_run", "reconcile_trades"]


def reconcile_run(wb: PaperContext, run_id: int | None = None) -> Reconciliation:
    """Reconcile paper run ``run_id`` (None: the latest) with a backtest of its strategy on the same
    stored candles, window (from its first bar to its last processed bar), trade start and costs."""
    if run_id is None:
        runs = list_runs(wb.db, limit=1)
        if runs.empty:
            raise DataNotFoundError("no paper runs yet: start one with `workbench paper ... --replay START END`")
        run_id = int(runs["id"].iloc[0])
    run = get_run(wb.db, run_id)
    if run.last_bar is None:
        raise DataNotFoundError(f"paper run {run_id} has not processed a bar yet; nothing to reconcile")
    strategy = load_strategy(wb.db, run.strategy_id)
    end = run.last_bar + timeframe_offset(run.timeframe)
    data = {s: load_candles(wb.db, s, run.timeframe, run.start_time, end, cache=wb.cache) for s in run.symbols}
    config = BacktestConfig(**run.config)
    trade_start = run.trade_start if run.trade_start > run.start_time else None
    if isinstance(strategy, PortfolioStrategy):
        return _reconcile_portfolio(wb, run, strategy, data, config, trade_start)
    bt = run_backtest(data, strategy, config, timeframe=run.timeframe, trade_start=trade_start)
    frames = run_frames(wb.db, run_id)
    signals = compare_signals(executed_signals(frames["executions"]), backtest_signals(strategy, data))
    notes = []
    rules = run.rules
    if rules.get("tick_sizes") or rules.get("min_order_krw") or rules.get("quantity_decimals") is not None:
        notes.append("Bithumb order rules were on in this run (tick sizes: {tick_sizes}, minimum order: "
                     "{min_order_krw:,.0f} KRW, quantity decimals: {quantity_decimals}); they explain price, "
                     "size and missed-trade differences".format(**rules))
    orders = frames["orders"]
    rejected = orders[orders["status"] == "rejected"] if not orders.empty else orders
    if len(rejected):
        notes.append(f"{len(rejected)} order(s) rejected by the order rules, e.g. {rejected['notes'].iloc[0]}")
    paper = paper_trades(frames["positions"])
    if config.volume_share > 0:
        paper["partial"] = partial_trades(paper, paper_fills(frames["executions"]))
        n_parts = int(paper["partial"].sum())
        notes.append(f"volume cap on ({config.volume_share:.2%} of a bar's volume): {n_parts} paper trade(s) "
                     "filled in parts; their size differences are the cause partial_fills")
    return reconcile_result(paper, bt, signals, run_id, notes, _paper_equity(frames, run.trade_start))


def _paper_equity(frames: dict[str, pd.DataFrame], since: pd.Timestamp) -> pd.Series:
    eq = frames["equity"]
    equity = pd.Series(eq["equity"].to_numpy(dtype=float), index=pd.DatetimeIndex(eq["ts"]), name="equity")
    return equity[equity.index >= since]


def _reconcile_portfolio(wb: PaperContext, run: PaperRunRow, strategy: PortfolioStrategy,
                         data: dict[str, pd.DataFrame], config: BacktestConfig,
                         trade_start: pd.Timestamp | None) -> Reconciliation:
    """A portfolio run against the portfolio backtest with the same rules: trades (one per sale) matched by
    symbol, entry and exit time; decided weights compared as signals."""
    rules, engine_config = portfolio_rules(OrderRules.from_dict(run.rules), config)
    bt = run_portfolio_backtest(data, strategy, engine_config, rules=rules, timeframe=run.timeframe,
                                trade_start=trade_start)
    frames = run_frames(wb.db, run.id)
    executions = frames["executions"]
    signals = executions[executions["execution_type"] == "signal"]
    paper_weights = pd.DataFrame([d["weights"] for d in signals["signal_data"]],
                                 index=pd.DatetimeIndex(signals["bar_time"]), columns=bt.data.symbols).fillna(0.0)
    compared = compare_signals(weight_signals(paper_weights), weight_signals(bt.weights.dropna(how="all")))
    notes = [f"portfolio run: Bithumb's minimum order ({rules.min_order_krw:,.0f} KRW), tick sizes "
             f"({'on' if rules.tick_sizes else 'off'}) and lot ({engine_config.size_step:g}) applied to both sides"]
    return reconcile_result(portfolio_trades(frames["orders"], bt.data), bt, compared, run.id, notes,
                            _paper_equity(frames, run.trade_start), key=("symbol", "entry_time", "exit_time"))


def reconcile_history(wb: PaperContext, trades: pd.DataFrame, strategy: Strategy, symbols: Sequence[str],
                      timeframe: str, start: TimeLike, end: TimeLike, *, config: BacktestConfig | None = None,
                      trade_start: TimeLike | None = None, close_at_end: bool = False,
                      benchmark_close: pd.Series | None = None) -> Reconciliation:
    """Reconcile an imported (e.g. real) trade history, in the backtest's trade-list columns, with the
    backtest of ``strategy`` on the stored candles of ``symbols`` in ``[start, end)`` (``trade_start``,
    ``close_at_end``, ``benchmark_close``: as :func:`~workbench.core.backtest.run_backtest`)."""
    tf = normalize_timeframe(timeframe)
    s, e = to_utc(start, name="start"), to_utc(end, name="end")
    data = {sym: load_candles(wb.db, sym, tf, s, e, cache=wb.cache) for sym in symbols}
    bt = run_backtest(data, strategy, config, timeframe=tf, trade_start=trade_start, close_at_end=close_at_end,
                      benchmark_close=benchmark_close)
    no_signals = pd.DataFrame(columns=["symbol", "bar", "kind", "side"])
    return reconcile_result(check_trades(trades, "imported"), bt, no_signals, None, [])
