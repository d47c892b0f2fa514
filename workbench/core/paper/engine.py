"""The paper broker: one bar at a time, the backtest kernel's fill rules plus Bithumb's order rules.

Pure (no database, no network): :class:`PaperBroker` takes each bar's prices and the strategy's
decisions and returns what happened as :class:`Fill`/:class:`Skip` events. Where and at what price an
order fills, how much a budget buys, the volume cap and the trailing stops are the compiled functions
of :mod:`workbench.core.backtest.fills` that the backtest kernel uses too, called in the kernel's order of
events (the same float arithmetic), so with :meth:`OrderRules.off` a replay gives exactly the
backtest's trades and equity:

1. pending exit orders fill at the open (less slippage); positions whose stop-loss, trailing stop,
   take-profit or sell limit the open gapped through fill at the open, and so do positions held
   ``max_bars`` bars; the rest of a volume-capped sell sells on;
2. pending buy orders (market, limit, stop; the rest of a volume-capped buy) fill at their price,
   symbols in the order given, while fewer than ``max_positions`` are open; each is sized on the equity
   at the open (at most the cash left); a market order that cannot fill is cancelled, a limit or stop
   order waits; stops are set from the fill price;
3. levels touched within the bar fill at their price (a stop before a target); a position entered by
   a limit or stop order is checked from the next bar on;
4. trailing stops move up to the bar's high; equity is marked at the close.

A signal decided on a symbol's bar acts at that symbol's next bar (a bar the symbol did not trade is
flat at its last close and acts on nothing, as in the backtest's market data).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal, TypedDict

import pandas as pd

from workbench.core.backtest.config import BacktestConfig
from workbench.core.backtest.fills import (
    ORDER_LIMIT,
    ORDER_MARKET,
    ORDER_STOP,
    REASON_NONE,
    REASON_TIME,
    buy_quantity,
    entry_fill,
    exit_at_open,
    exit_within_bar,
    round_down,
    trail_update,
    volume_cap,
)
from workbench.core.backtest.simulation import EXIT_REASONS
from workbench.core.jsontypes import json_float, json_int, json_list, json_object, json_str
from workbench.core.paper.rules import OrderRules
from workbench.core.strategies.base import Risk
from workbench.errors import ValidationError

__all__ = ["Bar", "BookPrice", "BrokerState", "Fill", "Order", "PaperBroker", "Position", "Skip"]

Bar = tuple[float, ...]  # open, high, low, close[, volume]
#: optional order-book pricing: (symbol, bar time, side, quantity) -> average fill price, or None
BookPrice = Callable[[str, pd.Timestamp, str, float], float | None]

_KINDS = {"market": ORDER_MARKET, "limit": ORDER_LIMIT, "stop": ORDER_STOP}


@dataclass
class Order:
    """A pending buy: ``kind`` market, limit or stop at ``price``; ``fraction`` of equity (NaN: the
    risk's); ``rest``: units still to buy of a volume-capped order."""

    kind: str = "market"
    price: float = 0.0
    fraction: float = math.nan
    rest: float = 0.0


@dataclass
class Position:
    symbol: str
    size: float                # units held now
    entry_price: float         # average over the buys
    entry_fee: float
    entry_time: pd.Timestamp
    sl_price: float
    tp_price: float
    position_id: int | None = None
    bought: float = 0.0        # units bought (size + units sold so far)
    entry_bar: int = 0         # the broker's bar number of the first buy
    kind: str = "market"       # the order that opened it
    trail_price: float = 0.0
    trail_anchor: float = 0.0
    sell_limit: float = 0.0
    exiting: str = ""          # reason of a volume-capped sell still selling
    sold: float = 0.0
    sold_value: float = 0.0
    sold_fee: float = 0.0

    def __post_init__(self) -> None:
        if not self.bought:
            self.bought = self.size


@dataclass(frozen=True)
class Fill:
    """An order filled: a buy opens (or adds to) ``position``, a sell closes (or reduces) it.
    ``partial``: more fills of the same order follow (volume cap)."""

    symbol: str
    side: Literal["buy", "sell"]
    ts: pd.Timestamp
    quantity: float
    price: float
    fee: float
    reason: str               # buy: "signal"; sell: "signal", "stop_loss", "take_profit", ...
    position: Position
    reference_price: float    # the price before slippage and rules (the open, or the level)
    note: str = ""
    partial: bool = False
    exit_price: float = math.nan    # a closing sell: the average exit price of the position
    exit_fee: float = math.nan      # a closing sell: all its exit fees

    @property
    def value(self) -> float:
        return self.quantity * self.price

    @property
    def pnl(self) -> float:
        """Realised PnL of a closing sell (size x price move less all fees); 0 for a buy or a part."""
        if self.side == "buy" or self.partial:
            return 0.0
        p = self.position
        return p.bought * (self.exit_price - p.entry_price) - (p.entry_fee + self.exit_fee)


@dataclass(frozen=True)
class Skip:
    """A pending order that did not fill: ``status`` cancelled (e.g. no free slot) or rejected (an
    exchange rule)."""

    symbol: str
    side: Literal["buy", "sell"]
    ts: pd.Timestamp
    status: Literal["cancelled", "rejected"]
    reason: str


class BrokerState(TypedDict):
    """:meth:`PaperBroker.to_state`: everything a resumed run needs (JSON-able)."""

    cash: float
    positions: dict[str, dict[str, object]]
    pending_entry: dict[str, dict[str, object]]
    pending_exit: dict[str, float]
    last_close: dict[str, float]
    peak_equity: float
    max_drawdown: float
    equity: float
    bar_no: int
    last_atr: dict[str, float]


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
    pending_entry: dict[str, Order] = field(default_factory=dict)
    pending_exit: dict[str, float] = field(default_factory=dict)     # symbol -> sell limit (0: market)
    last_close: dict[str, float] = field(default_factory=dict)
    peak_equity: float = field(default=math.nan)
    max_drawdown: float = 0.0
    equity: float = field(default=math.nan)
    bar_no: int = 0
    last_atr: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if math.isnan(self.cash):
            self.cash = float(self.config.initial_capital)
        if math.isnan(self.peak_equity):
            self.peak_equity = self.cash
        if math.isnan(self.equity):
            self.equity = self.cash

    # ------------------------------------------------------------------ decisions
    def signal(self, symbol: str, *, entry: bool, exit: bool, limit: float = math.nan, stop: float = math.nan,
               exit_limit: float = math.nan, size: float = math.nan) -> tuple[bool, bool]:
        """Record the decisions taken on ``symbol``'s bar close; returns (buy order, sell order) placed.

        An entry places a buy order (market; limit or stop where that price is given), replacing a
        waiting one (it may still be cancelled, e.g. while a position is held); ``size`` is its fraction
        of equity (sizing ``signal`` or ``vol_target``). An exit places a sell order (a sell limit where
        ``exit_limit`` is given) when a position is held, and otherwise cancels a waiting buy.
        """
        held = symbol in self.positions
        waiting = self.pending_entry.get(symbol)
        buy = bool(entry) and not (held and waiting is not None and waiting.rest > 0.0)   # a capped buy goes on
        sell = bool(exit) and held
        if exit and not sell:
            self.pending_entry.pop(symbol, None)
        if buy:
            kind, price = "market", 0.0
            if limit == limit:
                kind, price = "limit", float(limit)
            elif stop == stop:
                kind, price = "stop", float(stop)
            fraction = float(size) if self.risk.sizing in ("signal", "vol_target") and size == size else math.nan
            self.pending_entry[symbol] = Order(kind, price, fraction)
        if sell:
            self.pending_exit[symbol] = float(exit_limit) if exit_limit == exit_limit else 0.0
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

    def _sell(self, ts: pd.Timestamp, pos: Position, reason: str, base: float, volume: float, *,
              at_open: bool) -> Fill | None:
        """Sell the position (at most the volume cap); None when the bar has no volume for it."""
        qty = volume_cap(pos.size, volume, self.config.volume_share, self.config.size_step)
        waiting = self.pending_entry.get(pos.symbol)
        if waiting is not None and waiting.rest > 0.0:      # the rest of a capped buy is cancelled
            del self.pending_entry[pos.symbol]
        if qty <= 0.0:
            pos.exiting = reason
            return None
        px = self._fill_price(pos.symbol, ts, "sell", base, qty if at_open else None)
        fee = qty * px * self.config.fee_rate
        self.cash += qty * px - fee
        if qty < pos.size:
            pos.size -= qty
            pos.sold += qty
            pos.sold_value += qty * px
            pos.sold_fee += fee
            pos.exiting = reason
            return Fill(pos.symbol, "sell", ts, qty, px, fee, reason, pos, base, partial=True)
        exit_price, exit_fee = px, fee
        if pos.sold > 0.0:
            exit_price = (pos.sold_value + qty * px) / pos.bought
            exit_fee = fee + pos.sold_fee
        pos.size = 0.0
        del self.positions[pos.symbol]
        return Fill(pos.symbol, "sell", ts, qty, px, fee, reason, pos, base, exit_price=exit_price,
                    exit_fee=exit_fee)

    def on_bar(self, ts: pd.Timestamp, bars: Mapping[str, Bar],  # noqa: C901, PLR0912, PLR0915
               atr: Mapping[str, float] | None = None) -> list[Fill | Skip]:
        """Process the bar at ``ts``; ``bars`` holds the symbols that traded in it (open, high, low,
        close and, for a volume cap, volume); ``atr``: the ATR of the symbols in ``bars`` at this bar's
        close, on their own bars (for an ATR trailing stop). Returns the events."""
        events: list[Fill | Skip] = []
        flat: dict[str, Bar] = {}
        for s in self.symbols:
            if s in bars:
                flat[s] = bars[s]
            elif s in self.last_close:
                c = self.last_close[s]
                flat[s] = (c, c, c, c, 0.0)
        risk, cfg = self.risk, self.config
        capped = cfg.volume_share > 0.0
        atr_now = {**self.last_atr, **(atr or {})}

        def volume(s: str) -> float:
            bar = flat[s]
            return bar[4] if capped and len(bar) > 4 else math.inf

        # 1. exit orders, gaps through a level, time exits, rests of capped sells: at the open
        for s in self.symbols:
            pos = self.positions.get(s)
            exit_now = s in bars and s in self.pending_exit
            sell_limit = self.pending_exit.pop(s, 0.0) if exit_now else 0.0
            if pos is None:
                continue
            o = flat[s][0]
            reason = pos.exiting
            if not reason and exit_now:
                if sell_limit > 0.0:
                    pos.sell_limit = sell_limit
                else:
                    reason = "signal"
            if not reason:
                reason = EXIT_REASONS[exit_at_open(o, pos.sl_price, pos.tp_price, pos.trail_price, pos.sell_limit)]
            if not reason and risk.max_bars > 0 and self.bar_no - pos.entry_bar >= risk.max_bars:
                reason = EXIT_REASONS[REASON_TIME]
            if reason:
                ev = self._sell(ts, pos, reason, o, volume(s), at_open=True)
                if ev is not None:
                    events.append(ev)
        # 2. buy orders
        trading = self.trade_start is None or ts >= self.trade_start
        equity_open = self.cash
        for s in self.symbols:
            pos = self.positions.get(s)
            if pos is not None:
                equity_open += pos.size * flat[s][0]
        fee_rate = cfg.fee_rate
        for s in self.symbols:
            order = self.pending_entry.get(s)
            if order is None or s not in bars:
                continue
            rest = order.rest > 0.0
            if order.kind == "market" and not rest:
                del self.pending_entry[s]
            if not trading:
                self.pending_entry.pop(s, None)
                events.append(Skip(s, "buy", ts, "cancelled", f"before trade start {self.trade_start}"))
                continue
            if not rest and s in self.positions:
                self.pending_entry.pop(s, None)
                events.append(Skip(s, "buy", ts, "cancelled", f"a position in {s} is already open"))
                continue
            if not rest and len(self.positions) >= risk.max_positions:
                if order.kind == "market":
                    events.append(Skip(s, "buy", ts, "cancelled",
                                       f"max_positions ({risk.max_positions}) positions are open"))
                continue
            o, h, lo = bars[s][0], bars[s][1], bars[s][2]
            base = entry_fill(_KINDS[order.kind], order.price, o, h, lo)
            if base != base:
                continue
            px = self._fill_price(s, ts, "buy", base, None)
            if rest:
                qty = min(order.rest, buy_quantity(self.cash, px, fee_rate, 0.0))
            else:
                if risk.sizing == "fixed_krw":
                    budget = min(risk.position_krw, self.cash)
                else:
                    frac = order.fraction if order.fraction == order.fraction else risk.position_fraction
                    budget = min(frac * equity_open, self.cash)
                qty = buy_quantity(budget, px, fee_rate, 0.0)
            walked = None
            if self.book_price is not None and base == o:    # size on the book's price, then price the final size
                walked = self.book_price(s, ts, "buy", qty)
                if walked is not None:
                    qty = (min(order.rest, self.cash / (walked * (1.0 + fee_rate))) if rest
                           else budget / (walked * (1.0 + fee_rate)))
            qty = self.rules.quantity(round_down(qty, cfg.size_step))
            want = qty
            if capped:
                qty = self.rules.quantity(volume_cap(qty, volume(s), cfg.volume_share, cfg.size_step))
            if walked is not None and self.book_price is not None and qty > 0.0:   # walked: there is a book
                px = self.book_price(s, ts, "buy", qty) or walked
            if qty <= 0.0:
                if capped and want > 0.0:
                    self.pending_entry[s] = order                    # no volume for it in this bar: wait
                    continue
                self.pending_entry.pop(s, None)
                events.append(Skip(s, "buy", ts, "rejected", "the order quantity rounds to zero"))
                continue
            if not rest and self.rules.min_order_krw > 0 and qty * px < self.rules.min_order_krw:
                self.pending_entry.pop(s, None)
                events.append(Skip(s, "buy", ts, "rejected",
                                   f"order value {qty * px:,.0f} KRW is below Bithumb's minimum of "
                                   f"{self.rules.min_order_krw:,.0f} KRW"))
                continue
            fee = qty * px * fee_rate
            self.cash -= qty * px + fee
            if rest:
                pos = self.positions[s]
                pos.entry_price = (pos.entry_price * pos.size + qty * px) / (pos.size + qty)
                pos.entry_fee += fee
                pos.size += qty
                pos.bought += qty
                order.rest -= qty
                if order.rest <= 0.0:
                    self.pending_entry.pop(s, None)
                events.append(Fill(s, "buy", ts, qty, px, fee, "signal", pos, base, partial=order.rest > 0.0))
                continue
            sl = px * (1.0 - risk.stop_loss_pct / 100.0) if risk.stop_loss_pct > 0.0 else 0.0
            tp = px * (1.0 + risk.take_profit_pct / 100.0) if risk.take_profit_pct > 0.0 else 0.0
            pos = Position(s, qty, px, fee, ts, sl, tp, entry_bar=self.bar_no, kind=order.kind, trail_anchor=px)
            if risk.trailing_stop_pct > 0.0 or risk.trailing_atr > 0.0:
                pos.trail_anchor, pos.trail_price = trail_update(px, 0.0, px, risk.trailing_stop_pct / 100.0,
                                                                 risk.trailing_atr, self.last_atr.get(s, math.nan))
            self.positions[s] = pos
            if want > qty:
                order.rest = want - qty
                self.pending_entry[s] = order
            else:
                self.pending_entry.pop(s, None)
            events.append(Fill(s, "buy", ts, qty, px, fee, "signal", pos, base, partial=want > qty))
        # 3. levels within the bar, 4. trailing stops move, mark at the close
        equity = self.cash
        for s in self.symbols:
            pos = self.positions.get(s)
            if pos is None:
                continue
            o, h, lo, c = flat[s][:4]
            code, base = REASON_NONE, 0.0
            if pos.exiting:
                code = -1
            elif pos.entry_time != ts or pos.kind == "market":
                code, base = exit_within_bar(o, h, lo, pos.sl_price, pos.tp_price, pos.trail_price, pos.sell_limit)
            if code > 0:
                ev = self._sell(ts, pos, EXIT_REASONS[code], base, volume(s), at_open=False)
                if ev is not None:
                    equity += ev.quantity * ev.price - ev.fee
                    events.append(ev)
                if pos.size > 0.0:
                    equity += pos.size * c
                continue
            if code == REASON_NONE and (risk.trailing_stop_pct > 0.0 or risk.trailing_atr > 0.0):
                pos.trail_anchor, pos.trail_price = trail_update(
                    pos.trail_anchor, pos.trail_price, h, risk.trailing_stop_pct / 100.0, risk.trailing_atr,
                    atr_now.get(s, math.nan))
            equity += pos.size * c
        for s, bar in bars.items():
            self.last_close[s] = bar[3]
        self.last_atr.update({k: v for k, v in atr_now.items() if v == v})   # NaN: not yet known
        self.bar_no += 1
        self.equity = equity
        self.peak_equity = max(self.peak_equity, equity)
        if self.peak_equity > 0:
            self.max_drawdown = max(self.max_drawdown, 1.0 - equity / self.peak_equity)
        return events

    # ------------------------------------------------------------------ resume
    def to_state(self) -> BrokerState:
        """Everything needed to resume (JSON-able; floats round-trip exactly)."""
        return {
            "cash": self.cash,
            "positions": {s: {**asdict(p), "entry_time": p.entry_time.isoformat()} for s, p in self.positions.items()},
            "pending_entry": {s: asdict(o) for s, o in self.pending_entry.items()},
            "pending_exit": dict(self.pending_exit),
            "last_close": dict(self.last_close),
            "peak_equity": self.peak_equity,
            "max_drawdown": self.max_drawdown,
            "equity": self.equity,
            "bar_no": self.bar_no,
            "last_atr": dict(self.last_atr),
        }

    def load_state(self, state: Mapping[str, object]) -> None:
        """Resume from :meth:`to_state` read back as JSON (empty: a fresh broker); a value of the wrong type
        raises ValidationError naming it."""
        if not state:
            return
        missing = [k for k in ("cash", "positions", "pending_entry", "pending_exit", "last_close", "peak_equity",
                               "max_drawdown", "equity") if k not in state]
        if missing:
            raise ValidationError(f"paper state lacks {', '.join(missing)}")

        def floats(key: str) -> dict[str, float]:
            return {s: json_float(v, f"paper state {key}.{s}")
                    for s, v in json_object(state.get(key, {}), f"paper state {key}").items()}

        self.cash = json_float(state["cash"], "paper state cash")
        self.positions = {s: _position(s, json_object(p, f"paper state positions.{s}"))
                          for s, p in json_object(state["positions"], "paper state positions").items()}
        entry, exit_ = state["pending_entry"], state["pending_exit"]
        # states written before order types: lists of symbols with market orders
        if isinstance(entry, Mapping):
            self.pending_entry = {s: _order(s, json_object(o, f"paper state pending_entry.{s}"))
                                  for s, o in json_object(entry, "paper state pending_entry").items()}
        else:
            self.pending_entry = {json_str(s, "paper state pending_entry[]"): Order()
                                  for s in json_list(entry, "paper state pending_entry")}
        if isinstance(exit_, Mapping):
            self.pending_exit = floats("pending_exit")
        else:
            self.pending_exit = dict.fromkeys((json_str(s, "paper state pending_exit[]")
                                               for s in json_list(exit_, "paper state pending_exit")), 0.0)
        self.last_close = floats("last_close")
        self.peak_equity = json_float(state["peak_equity"], "paper state peak_equity")
        self.max_drawdown = json_float(state["max_drawdown"], "paper state max_drawdown")
        self.equity = json_float(state["equity"], "paper state equity")
        self.bar_no = json_int(state.get("bar_no", 0), "paper state bar_no")
        self.last_atr = floats("last_atr")


def _order(symbol: str, o: Mapping[str, object]) -> Order:
    """A pending entry of a stored state."""
    what = f"paper state pending_entry.{symbol}"
    default = Order()
    return Order(kind=json_str(o.get("kind", default.kind), f"{what}.kind"),
                 price=json_float(o.get("price", default.price), f"{what}.price"),
                 fraction=json_float(o.get("fraction", default.fraction), f"{what}.fraction"),
                 rest=json_float(o.get("rest", default.rest), f"{what}.rest"))


_POSITION_FLOATS = ("size", "entry_price", "entry_fee", "sl_price", "tp_price", "bought", "trail_price",
                    "trail_anchor", "sell_limit", "sold", "sold_value", "sold_fee")


def _position(symbol: str, p: Mapping[str, object]) -> Position:
    """A position of a stored state (every float field checked; a missing optional field takes its default)."""
    what = f"paper state positions.{symbol}"
    missing = [k for k in ("size", "entry_price", "entry_fee", "entry_time", "sl_price", "tp_price") if k not in p]
    if missing:
        raise ValidationError(f"{what} lacks {', '.join(missing)}")
    floats = {k: json_float(p[k], f"{what}.{k}") for k in _POSITION_FLOATS if k in p}
    floats.setdefault("bought", 0.0)   # 0: __post_init__ takes the size
    pid = p.get("position_id")
    try:
        entry_time = pd.Timestamp(json_str(p["entry_time"], f"{what}.entry_time"))
    except ValueError:
        raise ValidationError(f"{what}.entry_time is not a time (got {p['entry_time']!r})") from None
    return Position(symbol=json_str(p.get("symbol", symbol), f"{what}.symbol"), entry_time=entry_time,
                    position_id=None if pid is None else json_int(pid, f"{what}.position_id"),
                    entry_bar=json_int(p.get("entry_bar", 0), f"{what}.entry_bar"),
                    kind=json_str(p.get("kind", "market"), f"{what}.kind"),
                    exiting=json_str(p.get("exiting", ""), f"{what}.exiting"), size=floats["size"],
                    entry_price=floats["entry_price"], entry_fee=floats["entry_fee"], sl_price=floats["sl_price"],
                    tp_price=floats["tp_price"], bought=floats["bought"], trail_price=floats.get("trail_price", 0.0),
                    trail_anchor=floats.get("trail_anchor", 0.0), sell_limit=floats.get("sell_limit", 0.0),
                    sold=floats.get("sold", 0.0), sold_value=floats.get("sold_value", 0.0),
                    sold_fee=floats.get("sold_fee", 0.0))
