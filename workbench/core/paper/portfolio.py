"""Paper portfolios (pure part): one cash account traded bar by bar to a portfolio strategy's target weights
by the portfolio kernel's own njit steps (``rebalance_nb``, ``mark_close_nb`` and ``drifted_nb`` of
:mod:`workbench.core.backtest.portfolio._nb`), so a paper run and the portfolio backtest cannot fill
differently.

A paper run's order rules (:class:`~workbench.core.paper.rules.OrderRules`) map onto the portfolio engine's
(:func:`portfolio_rules`): the tick grid and minimum order as they are, the quantity decimals as the lot.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TypedDict

import numpy as np
import pandas as pd

from workbench.core.backtest.config import BacktestConfig
from workbench.core.backtest.data import MarketData
from workbench.core.backtest.portfolio import ORDER_REASONS, ExchangeRules, PortfolioSimulation
from workbench.core.backtest.portfolio._nb import drifted_nb, mark_close_nb, rebalance_nb
from workbench.core.jsontypes import json_float, json_object, json_str
from workbench.core.paper.rules import OrderRules
from workbench.errors import ValidationError

__all__ = ["PortfolioBook", "PortfolioFill", "PortfolioState", "portfolio_rules", "portfolio_trades", "weight_signals"]


def portfolio_rules(rules: OrderRules, config: BacktestConfig) -> tuple[ExchangeRules, BacktestConfig]:
    """The portfolio engine's rules and config for a paper run's ``rules``: ticks and minimum order as
    given; ``quantity_decimals`` d makes the lot ``10**-d`` (unless ``config.size_step`` is set). Order
    books are not walked by portfolio runs (fills at the open plus slippage, as in the backtest)."""
    engine = ExchangeRules(min_order_krw=rules.min_order_krw, tick_sizes=rules.tick_sizes, ticks=rules.ticks)
    if config.size_step == 0 and rules.quantity_decimals is not None:
        config = replace(config, size_step=10.0 ** -rules.quantity_decimals)
    return engine, config


@dataclass(frozen=True)
class PortfolioFill:
    """One fill of a paper portfolio: ``side`` buy or sell, ``reason`` rebalance or delisted."""

    symbol: str
    side: str
    quantity: float
    price: float
    fee: float
    reason: str


class PortfolioState(TypedDict):
    """:meth:`PortfolioBook.to_state`: everything a resumed portfolio needs (JSON-able)."""

    cash: float
    equity: float
    peak: float
    max_drawdown: float
    last_rebalanced: str | None
    position: dict[str, float]


class PortfolioBook:
    """Cash and units per symbol (in ``symbols``' order, the engine's) after the last processed bar, the
    equity at its close, the peak and drawdown, and when the portfolio last rebalanced."""

    def __init__(self, symbols: Sequence[str], config: BacktestConfig, rules: ExchangeRules) -> None:
        self.symbols = list(symbols)
        self.config = config
        self.rules = rules
        self.cash = float(config.initial_capital)
        self.position = np.zeros(len(self.symbols))
        self.equity = float(config.initial_capital)
        self.peak = self.equity
        self.max_drawdown = 0.0
        self.last_rebalanced: str | None = None

    def step(self, bar: int, open_: np.ndarray, close: np.ndarray, tradeable: np.ndarray, close_prev: np.ndarray,
             target: np.ndarray, *, due: bool, threshold: float, last_bar: np.ndarray,
             more: bool) -> tuple[list[PortfolioFill], bool]:
        """Bar ``bar`` (rows of the universe's arrays): on a due rebalance with a known ``target`` (and, with
        ``threshold``, a drift), trade to it at the open; then sell delisted symbols at the close (``last_bar``,
        ``more``) and mark the equity. Returns the fills and whether the portfolio rebalanced."""
        k = len(self.symbols)
        out_int = np.zeros((2 * k + 1, 3), dtype=np.int64)
        out_float = np.zeros((2 * k + 1, 3), dtype=np.float64)
        floors, ticks = self.rules.tick_arrays()
        cfg = self.config
        t = 0
        rebalanced = bool(due and not math.isnan(target[0]) and (
            threshold <= 0.0 or bar == 0
            or drifted_nb(self.position, close_prev, self.equity, target, float(threshold))))
        cash = self.cash
        if rebalanced:
            cash, t = rebalance_nb(bar, open_, tradeable, target, self.position, cash, np.zeros(k), cfg.fee_rate,
                                   cfg.slippage, cfg.size_step, self.rules.min_order_krw, floors, ticks, out_int,
                                   out_float, t)
        equity, cash, t = mark_close_nb(bar, close, last_bar, more, self.position, cash, cfg.fee_rate, cfg.slippage,
                                        floors, ticks, out_int, out_float, t)
        self.cash, self.equity = float(cash), float(equity)
        self.peak = max(self.peak, self.equity)
        self.max_drawdown = min(self.max_drawdown, self.equity / self.peak - 1.0)
        fills = [PortfolioFill(self.symbols[int(out_int[r, 1])], "buy" if out_float[r, 0] > 0 else "sell",
                               float(abs(out_float[r, 0])), float(out_float[r, 1]), float(out_float[r, 2]),
                               ORDER_REASONS[int(out_int[r, 2])]) for r in range(t)]
        return fills, rebalanced

    def holdings(self, close: np.ndarray) -> dict[str, dict[str, float]]:
        """The symbols held: units, the close they are marked at, their value and weight in the equity."""
        out = {}
        for j, s in enumerate(self.symbols):
            if self.position[j] > 0.0:
                value = float(self.position[j] * close[j])
                out[s] = {"quantity": float(self.position[j]), "price": float(close[j]), "value": value,
                          "weight": value / self.equity if self.equity > 0 else 0.0}
        return out

    def to_state(self) -> PortfolioState:
        """Everything needed to resume (JSON-able)."""
        return {"cash": self.cash, "equity": self.equity, "peak": self.peak, "max_drawdown": self.max_drawdown,
                "last_rebalanced": self.last_rebalanced,
                "position": {s: float(self.position[j]) for j, s in enumerate(self.symbols) if self.position[j] > 0}}

    def load_state(self, state: Mapping[str, object]) -> None:
        """Resume from :meth:`to_state` read back as JSON (empty: a fresh book); a value of the wrong type
        raises ValidationError naming it."""
        if not state:
            return
        missing = [k for k in ("cash", "equity", "peak", "max_drawdown") if k not in state]
        if missing:
            raise ValidationError(f"paper portfolio state lacks {', '.join(missing)}")
        self.cash = json_float(state["cash"], "paper portfolio state cash")
        self.equity = json_float(state["equity"], "paper portfolio state equity")
        self.peak = json_float(state["peak"], "paper portfolio state peak")
        self.max_drawdown = json_float(state["max_drawdown"], "paper portfolio state max_drawdown")
        last = state.get("last_rebalanced")
        self.last_rebalanced = None if last is None else json_str(last, "paper portfolio state last_rebalanced")
        held = json_object(state.get("position", {}), "paper portfolio state position")
        self.position = np.array([json_float(held.get(s, 0.0), f"paper portfolio state position.{s}")
                                  for s in self.symbols])


def portfolio_trades(orders: pd.DataFrame, md: MarketData) -> pd.DataFrame:
    """A paper portfolio's filled ``orders`` rows (symbol, order_type buy/sell, quantity, price, fee,
    filled_at, notes = the reason) as the portfolio backtest's trade list on ``md``: one trade per sale and
    one open trade per position still held, marked at the last close (the engine's own trade builder)."""
    filled = orders[orders["status"] == "filled"] if len(orders) else orders
    codes = {name: code for code, name in ORDER_REASONS.items() if name}
    bars = md.index.get_indexer(pd.DatetimeIndex(pd.to_datetime(filled["filled_at"], utc=True)))
    if (bars < 0).any():
        raise ValidationError(f"paper fill at {filled['filled_at'].iloc[int(np.argmax(bars < 0))]} lies outside "
                              "the backtest's bars")
    cols = [md.symbols.index(s) for s in filled["symbol"]]
    o_int = np.column_stack([bars, cols, [codes[str(n)] for n in filled["notes"]]]).astype(np.int64).reshape(-1, 3)
    sign = np.where(filled["order_type"].astype(str) == "buy", 1.0, -1.0)
    o_float = np.column_stack([sign * filled["quantity"].to_numpy(dtype=float), filled["price"].to_numpy(dtype=float),
                               filled["fee"].to_numpy(dtype=float)]).reshape(-1, 3)
    sim = PortfolioSimulation(np.zeros(0), np.zeros(0), 0, o_int, np.ascontiguousarray(o_float),
                              np.zeros(len(md.symbols)))
    return sim.trades(md)


def weight_signals(weights: pd.DataFrame) -> pd.DataFrame:
    """The decided rows of ``weights`` (bars x symbols) as signals: one (symbol, bar, kind) row per symbol
    with a weight above 0, ``kind`` naming the weight (``weight 0.5``), to compare a paper run's with its
    backtest's."""
    rows = [(str(s), ts, f"weight {w:.12g}") for ts, row in weights.iterrows() for s, w in row.items() if w > 0]
    return pd.DataFrame(rows, columns=["symbol", "bar", "kind"])
