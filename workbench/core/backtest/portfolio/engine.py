"""Backtests of a PortfolioStrategy: the universe's bars -> target weights -> one kernel call -> result."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from workbench.core.backtest.config import BacktestConfig
from workbench.core.backtest.data import MarketData, prepare_data
from workbench.core.backtest.portfolio._nb import (
    ORDER_DELISTED,
    ORDER_END,
    ORDER_REBALANCE,
    exit_trades_nb,
    simulate_portfolio_nb,
)
from workbench.core.backtest.portfolio.rules import ExchangeRules
from workbench.core.backtest.portfolio.schedule import rebalance_bars
from workbench.core.backtest.result import BacktestResult, benchmark_curve
from workbench.core.backtest.simulation import trade_table
from workbench.core.backtest.stats import compute_metrics
from workbench.core.markets import TimeLike, to_utc
from workbench.core.strategies.portfolio import PortfolioBars, PortfolioStrategy
from workbench.errors import ValidationError

__all__ = ["ORDER_COLUMNS", "ORDER_REASONS", "PortfolioResult", "PortfolioSimulation", "listing_bounds",
           "portfolio_bars", "run_portfolio_backtest", "simulate_portfolio"]

#: order reason codes of the kernel -> names (in the order list and as the trades' exit_reason)
ORDER_REASONS: dict[int, str] = {0: "", ORDER_REBALANCE: "rebalance", ORDER_DELISTED: "delisted", ORDER_END: "end"}
_REASON_NAMES = np.array([ORDER_REASONS[k] for k in range(len(ORDER_REASONS))], dtype=object)

#: the order list's columns
ORDER_COLUMNS: tuple[str, ...] = ("time", "symbol", "side", "size", "price", "value", "fee", "reason")


def listing_bounds(md: MarketData) -> tuple[np.ndarray, np.ndarray]:
    """Index of each symbol's first and last stored bar."""
    own = md.tradeable_array
    n = own.shape[0]
    first = np.argmax(own, axis=0).astype(np.int64)
    last = (n - 1 - np.argmax(own[::-1], axis=0)).astype(np.int64)
    return first, last


def portfolio_bars(md: MarketData) -> PortfolioBars:
    """``md`` as a strategy sees it: NaN outside each symbol's listing (first to last stored bar)."""
    first, last = listing_bounds(md)
    rows = np.arange(len(md.index))[:, None]
    listed = pd.DataFrame((rows >= first) & (rows <= last), index=md.index, columns=md.symbols)

    def panel(column: str) -> pd.DataFrame:
        return md.panel(column).where(listed)

    return PortfolioBars(open=panel("open"), high=panel("high"), low=panel("low"), close=panel("close"),
                         volume=panel("volume"), listed=listed)


@dataclass(frozen=True, eq=False)
class PortfolioSimulation:
    """Raw outputs of one portfolio kernel call."""

    value: np.ndarray          # equity at each close
    cash: np.ndarray           # cash at each close
    exposed: int               # bars (from ``begin``) with a position at some moment
    orders_int: np.ndarray     # (bar, col, reason)
    orders_float: np.ndarray   # (signed size, price, fee)
    position: np.ndarray       # units held after the last bar

    def orders(self, md: MarketData) -> pd.DataFrame:
        """Every fill, in the order made: time, symbol, side, size (units), price, value, fee, reason."""
        oi, of = self.orders_int, self.orders_float
        size = np.abs(of[:, 0])
        return pd.DataFrame({
            "time": md.index[oi[:, 0]],
            "symbol": np.asarray(md.symbols, dtype=object)[oi[:, 1]],
            "side": np.where(of[:, 0] > 0, "buy", "sell"),
            "size": size,
            "price": of[:, 1],
            "value": size * of[:, 1],
            "fee": of[:, 2],
            "reason": _REASON_NAMES[oi[:, 2]],
        }, columns=list(ORDER_COLUMNS))

    def trades(self, md: MarketData) -> pd.DataFrame:
        """One trade per sale (average entry price; a pro-rata share of the entry fees) and one open trade
        per position still held, marked at the last close; in entry order."""
        close = md.array("close")
        ti, tf, n = exit_trades_nb(self.orders_int, self.orders_float, len(md.symbols),
                                   np.ascontiguousarray(close[-1]), len(md.index) - 1)
        return trade_table(ti[:n], tf[:n], md, _REASON_NAMES)


def _kernel_targets(decisions: np.ndarray) -> np.ndarray:
    """Row ``i``: the latest decision made on a close before bar ``i`` (NaN before the first)."""
    n, k = decisions.shape
    decided = ~np.isnan(decisions[:, 0]) if k else np.zeros(n, dtype=bool)
    last = np.maximum.accumulate(np.where(decided, np.arange(n), -1))
    target = np.full((n, k), np.nan)
    src = last[:-1]
    ok = src >= 0
    target[1:][ok] = decisions[src[ok]]
    return np.ascontiguousarray(target)


def simulate_portfolio(md: MarketData, weights: pd.DataFrame | np.ndarray, config: BacktestConfig, *,
                       rebalance: str | int = "signal", threshold: float = 0.0, rules: ExchangeRules | None = None,
                       begin: int = 0, close_at_end: bool = False) -> PortfolioSimulation:
    """Trade ``md``'s symbols towards ``weights`` (bars x symbols, decided on each bar's close; a row of
    NaN: no decision; already checked, see :meth:`PortfolioStrategy.weights`) on the ``rebalance``
    schedule, with one cash account."""
    rules = rules if rules is not None else ExchangeRules()
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (len(md.index), len(md.symbols)):
        raise ValidationError(f"weights must be {len(md.index)} x {len(md.symbols)} (bars x symbols), got {w.shape}")
    decided = np.asarray(~np.isnan(w).all(axis=1))
    due = rebalance_bars(md.index, rebalance, decided, begin)
    floors, ticks = rules.tick_arrays()
    _, last = listing_bounds(md)
    value, cash, exposed, o_int, o_float, n_orders, position = simulate_portfolio_nb(
        md.array("open"), md.array("close"), md.tradeable_array, last, _kernel_targets(w), due,
        float(threshold), float(config.initial_capital), float(config.fee_rate), float(config.slippage),
        float(config.size_step), float(rules.min_order_krw), floors, ticks, int(begin), bool(close_at_end))
    return PortfolioSimulation(value, cash, int(exposed), o_int[:n_orders], o_float[:n_orders], position)


@dataclass(frozen=True, eq=False, kw_only=True)
class PortfolioResult(BacktestResult):
    """A :class:`BacktestResult` of a portfolio strategy, plus its ``orders`` (every fill), ``weights``
    (the strategy's checked decisions, bars x symbols) and the exchange ``rules`` applied."""

    orders: pd.DataFrame = field(repr=False)
    weights: pd.DataFrame = field(repr=False)
    rules: ExchangeRules

    def holdings(self) -> pd.Series:
        """Units held after the last bar, per symbol (0 for the symbols not held)."""
        held = self.orders.assign(signed=np.where(self.orders["side"] == "buy", 1.0, -1.0) * self.orders["size"])
        out = held.groupby("symbol")["signed"].sum().reindex(self.symbols, fill_value=0.0)
        return out.where(out.abs() > 1e-12, 0.0).rename("units")


def run_portfolio_backtest(
    data: pd.DataFrame | Mapping[str, pd.DataFrame] | MarketData,
    strategy: PortfolioStrategy,
    config: BacktestConfig | None = None,
    *,
    rules: ExchangeRules | None = None,
    timeframe: str = "1h",
    symbol: str = "ASSET",
    trade_start: TimeLike | None = None,
    close_at_end: bool = False,
) -> PortfolioResult:
    """Backtest a portfolio strategy on ``data`` (a frame per symbol, or MarketData).

    One cash account; the strategy's weights, decided on each bar's close, are traded at the next bar's
    open on its ``rebalance`` schedule (README "Portfolio strategies"). ``rules``: Bithumb's minimum order
    and price ticks by default (:class:`ExchangeRules`; ``ExchangeRules.off()`` for none); the lot is
    ``config.size_step``. A symbol trades from its first stored bar on; one whose bars end before the
    data's last bar is sold at its last close. ``trade_start``/``close_at_end`` as in ``run_backtest``.
    """
    t0 = time.perf_counter()
    config = config or BacktestConfig()
    rules = rules if rules is not None else ExchangeRules()
    md = prepare_data(data, timeframe=timeframe, symbol=symbol)
    begin = 0
    if trade_start is not None:
        ts = to_utc(trade_start, name="trade_start")
        begin = int(md.index.searchsorted(ts))
        if begin >= len(md.index) - 1:
            raise ValidationError(f"trade_start {ts} leaves fewer than 2 bars of data")
    weights = strategy.weights(portfolio_bars(md))
    sim = simulate_portfolio(md, weights, config, rebalance=strategy.params["rebalance"],
                             threshold=float(strategy.params["threshold"]), rules=rules, begin=begin,
                             close_at_end=close_at_end)
    trades = sim.trades(md)
    equity = pd.Series(sim.value[begin:], index=md.index[begin:], name="equity")
    bench = benchmark_curve(md, config, begin)
    metrics = compute_metrics(equity, trades, initial_capital=config.initial_capital, benchmark=bench,
                              exposure=float(sim.exposed) / len(equity), risk_free_rate=config.risk_free_rate)
    result = PortfolioResult(
        strategy_name=strategy.name, strategy_type=strategy.strategy_type, strategy_class=strategy.class_path,
        params=dict(strategy.params), risk=strategy.risk.to_dict(), config=config, symbols=md.symbols,
        timeframe=md.timeframe, equity=equity, benchmark=bench, trades=trades, metrics=metrics,
        execution_time=0.0, data=md, orders=sim.orders(md), weights=weights, rules=rules)
    return replace(result, execution_time=time.perf_counter() - t0)
