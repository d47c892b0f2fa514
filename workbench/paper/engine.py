"""The paper broker: one bar at a time, the backtest kernel's fill rules plus Bithumb's order rules.

Pure (no database, no network): :class:`PaperBroker` takes each bar's prices and the strategy's
decisions and returns what happened as :class:`Fill`/:class:`Skip` events. It follows the order of
events of :mod:`workbench.backtest._kernel` operation by operation (the same float arithmetic), so with
:meth:`OrderRules.off` a replay gives exactly the backtest's trades and equity:

1. pending exit orders fill at the open (less slippage);
2. positions whose stop-loss / take-profit the open gapped through fill at the open;
3. pending entry orders fill at the open (plus slippage), symbols in the order given, while fewer than
   ``max_positions`` are open; each gets ``position_fraction`` of the equity at the open (at most the
   cash left); stops are set from the fill price;
4. stops touched within the bar fill at their price (both touched: the stop-loss);
5. equity is marked at the close.

A signal decided on a symbol's bar acts at that symbol's next bar (a bar the symbol did not trade is
flat at its last close and acts on nothing, as in the backtest's market data).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import pandas as pd

from workbench.backtest.config import BacktestConfig
from workbench.paper.rules import OrderRules
from workbench.strategies.base import Risk

__all__ = ["Bar", "BookPrice", "Fill", "PaperBroker", "Position", "Skip"]

Bar = tuple[float, float, float, float]  # open, high, low, close
#: optional order-book pricing: (symbol, bar time, side, quantity) -> average fill price, or None
BookPrice = Callable[[str, pd.Timestamp, str, float], float | None]


@dataclass
class Position:
    symbol: str
    size: float
    entry_price: float
    entry_fee: float
    entry_time: pd.Timestamp
    sl_price: float
    tp_price: float
    position_id: int | None = None


@dataclass(frozen=True)
class Fill:
    """An order filled: a buy opens ``position``, a sell closes it."""

    symbol: str
    side: Literal["buy", "sell"]
    ts: pd.Timestamp
    quantity: float
    price: float
    fee: float
    reason: str               # buy: "signal"; sell: "signal", "stop_loss", "take_profit"
    position: Position
    reference_price: float    # the price before slippage and rules (the open, or the stop/target)
    note: str = ""

    @property
    def value(self) -> float:
        return self.quantity * self.price

    @property
    def pnl(self) -> float:
        """Realised PnL of a sell (size x price move less both fees); 0 for a buy."""
        if self.side == "buy":
            return 0.0
        p = self.position
        return p.size * (self.price - p.entry_price) - (p.entry_fee + self.fee)


@dataclass(frozen=True)
class Skip:
    """A pending order that did not fill: ``status`` cancelled (e.g. no free slot) or rejected (an
    exchange rule)."""

    symbol: str
    side: Literal["buy", "sell"]
    ts: pd.Timestamp
    status: Literal["cancelled", "rejected"]
    reason: str


@dataclass
class PaperBroker:
    """Cash, positions and pending orders of one paper run (see the module docstring)."""

    symbols: Sequence[str]
    risk: Risk
    config: BacktestConfig
    rules: OrderRules
    trade_start: pd.Timestamp | None = None
    book_price: BookPrice | None = None
    cash: float = field(default=math.nan)
    positions: dict[str, Position] = field(default_factory=dict)
    pending_entry: set[str] = field(default_factory=set)
    pending_exit: set[str] = field(default_factory=set)
    last_close: dict[str, float] = field(default_factory=dict)
    peak_equity: float = field(default=math.nan)
    max_drawdown: float = 0.0
    equity: float = field(default=math.nan)

    def __post_init__(self) -> None:
        if math.isnan(self.cash):
            self.cash = float(self.config.initial_capital)
        if math.isnan(self.peak_equity):
            self.peak_equity = self.cash
        if math.isnan(self.equity):
            self.equity = self.cash

    # ------------------------------------------------------------------ decisions
    def signal(self, symbol: str, *, entry: bool, exit: bool) -> tuple[bool, bool]:
        """Record the decisions taken on ``symbol``'s bar close; returns (buy order, sell order) placed.

        An entry always places a buy order (it may still be cancelled at the open, e.g. while a
        position is held); an exit places a sell order only when a position is held.
        """
        buy = bool(entry)
        sell = bool(exit) and symbol in self.positions
        if buy:
            self.pending_entry.add(symbol)
        if sell:
            self.pending_exit.add(symbol)
        return buy, sell

    # ------------------------------------------------------------------ one bar
    def _fill_price(self, symbol: str, ts: pd.Timestamp, side: Literal["buy", "sell"], base: float,
                    quantity: float | None) -> float:
        slip = self.config.slippage
        px = base * (1.0 + slip) if side == "buy" else base * (1.0 - slip)
        if self.book_price is not None and quantity is not None:
            walked = self.book_price(symbol, ts, side, quantity)
            if walked is not None:
                return walked     # book levels are on the tick grid already; their average need not be
        return self.rules.price(px, side) if self.rules.tick_sizes else px

    def _sell(self, ts: pd.Timestamp, pos: Position, reason: str, base: float, *, at_open: bool) -> Fill:
        px = self._fill_price(pos.symbol, ts, "sell", base, pos.size if at_open else None)
        fee = pos.size * px * self.config.fee_rate
        self.cash += pos.size * px - fee
        del self.positions[pos.symbol]
        return Fill(pos.symbol, "sell", ts, pos.size, px, fee, reason, pos, base)

    def on_bar(self, ts: pd.Timestamp, bars: Mapping[str, Bar]) -> list[Fill | Skip]:
        """Process the bar at ``ts``; ``bars`` holds the symbols that traded in it. Returns the events."""
        events: list[Fill | Skip] = []
        flat: dict[str, Bar] = {}
        for s in self.symbols:
            if s in bars:
                flat[s] = bars[s]
            elif s in self.last_close:
                c = self.last_close[s]
                flat[s] = (c, c, c, c)
        # 1. exit orders, 2. gaps through a stop: at the open
        for s in self.symbols:
            pos = self.positions.get(s)
            exit_now = s in bars and s in self.pending_exit
            if exit_now:
                self.pending_exit.discard(s)
            if pos is None:
                continue
            o = flat[s][0]
            if exit_now:
                events.append(self._sell(ts, pos, "signal", o, at_open=True))
            elif pos.sl_price > 0.0 and o <= pos.sl_price:
                events.append(self._sell(ts, pos, "stop_loss", o, at_open=True))
            elif pos.tp_price > 0.0 and o >= pos.tp_price:
                events.append(self._sell(ts, pos, "take_profit", o, at_open=True))
        # 3. entry orders at the open
        trading = self.trade_start is None or ts >= self.trade_start
        equity_open = self.cash
        for s in self.symbols:
            pos = self.positions.get(s)
            if pos is not None:
                equity_open += pos.size * flat[s][0]
        fee_rate = self.config.fee_rate
        for s in self.symbols:
            if s not in bars or s not in self.pending_entry:
                continue
            self.pending_entry.discard(s)
            if not trading:
                events.append(Skip(s, "buy", ts, "cancelled", f"before trade start {self.trade_start}"))
                continue
            if s in self.positions:
                events.append(Skip(s, "buy", ts, "cancelled", f"a position in {s} is already open"))
                continue
            if len(self.positions) >= self.risk.max_positions:
                events.append(Skip(s, "buy", ts, "cancelled",
                                   f"max_positions ({self.risk.max_positions}) positions are open"))
                continue
            o = bars[s][0]
            px = self._fill_price(s, ts, "buy", o, None)
            budget = min(self.risk.position_fraction * equity_open, self.cash)
            qty = budget / (px * (1.0 + fee_rate))
            walked = None
            if self.book_price is not None:    # size on the book's price, then price the final size
                walked = self.book_price(s, ts, "buy", qty)
                if walked is not None:
                    qty = budget / (walked * (1.0 + fee_rate))
            if self.config.size_step > 0.0:
                qty = math.floor(qty / self.config.size_step + 1e-9) * self.config.size_step
            qty = self.rules.quantity(qty)
            if walked is not None and qty > 0.0:
                px = self.book_price(s, ts, "buy", qty) or walked    # type: ignore[misc]
            if qty <= 0.0:
                events.append(Skip(s, "buy", ts, "rejected", "the order quantity rounds to zero"))
                continue
            if self.rules.min_order_krw > 0 and qty * px < self.rules.min_order_krw:
                events.append(Skip(s, "buy", ts, "rejected",
                                   f"order value {qty * px:,.0f} KRW is below Bithumb's minimum of "
                                   f"{self.rules.min_order_krw:,.0f} KRW"))
                continue
            fee = qty * px * fee_rate
            self.cash -= qty * px + fee
            sl = px * (1.0 - self.risk.stop_loss_pct / 100.0) if self.risk.stop_loss_pct > 0.0 else 0.0
            tp = px * (1.0 + self.risk.take_profit_pct / 100.0) if self.risk.take_profit_pct > 0.0 else 0.0
            pos = Position(s, qty, px, fee, ts, sl, tp)
            self.positions[s] = pos
            events.append(Fill(s, "buy", ts, qty, px, fee, "signal", pos, o))
        # 4. stops within the bar, 5. mark at the close
        equity = self.cash
        for s in self.symbols:
            pos = self.positions.get(s)
            if pos is None:
                continue
            o, h, lo, c = flat[s]
            if pos.sl_price > 0.0 and lo <= pos.sl_price:
                ev = self._sell(ts, pos, "stop_loss", min(o, pos.sl_price), at_open=False)
            elif pos.tp_price > 0.0 and h >= pos.tp_price:
                ev = self._sell(ts, pos, "take_profit", max(o, pos.tp_price), at_open=False)
            else:
                equity += pos.size * c
                continue
            equity += ev.quantity * ev.price - ev.fee
            events.append(ev)
        for s, bar in bars.items():
            self.last_close[s] = bar[3]
        self.equity = equity
        self.peak_equity = max(self.peak_equity, equity)
        if self.peak_equity > 0:
            self.max_drawdown = max(self.max_drawdown, 1.0 - equity / self.peak_equity)
        return events

    # ------------------------------------------------------------------ resume
    def to_state(self) -> dict[str, Any]:
        """Everything needed to resume (JSON-able; floats round-trip exactly)."""
        return {
            "cash": self.cash,
            "positions": {s: {**asdict(p), "entry_time": p.entry_time.isoformat()} for s, p in self.positions.items()},
            "pending_entry": sorted(self.pending_entry),
            "pending_exit": sorted(self.pending_exit),
            "last_close": dict(self.last_close),
            "peak_equity": self.peak_equity,
            "max_drawdown": self.max_drawdown,
            "equity": self.equity,
        }

    def load_state(self, state: Mapping[str, Any]) -> None:
        if not state:
            return
        self.cash = float(state["cash"])
        self.positions = {s: Position(**{**p, "entry_time": pd.Timestamp(p["entry_time"])})
                          for s, p in state["positions"].items()}
        self.pending_entry = set(state["pending_entry"])
        self.pending_exit = set(state["pending_exit"])
        self.last_close = {s: float(v) for s, v in state["last_close"].items()}
        self.peak_equity = float(state["peak_equity"])
        self.max_drawdown = float(state["max_drawdown"])
        self.equity = float(state["equity"])
