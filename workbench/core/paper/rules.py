"""Bithumb's order rules for KRW markets: price tick sizes by price level, the 5,000 KRW minimum order
and quantity precision (pure functions; no I/O).

The tick table is Bithumb's KRW-market table as published in its support centre ("원화 마켓 호가 단위");
it changes from time to time, so it is a parameter (:attr:`OrderRules.ticks`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Literal

from workbench.core.jsontypes import json_bool, json_float, json_int, json_list
from workbench.core.markets import KRW_TICKS
from workbench.errors import ValidationError

__all__ = ["KRW_TICKS", "OrderRules", "round_price", "round_quantity", "tick_size"]

Side = Literal["buy", "sell"]


def tick_size(price: float, ticks: tuple[tuple[float, float], ...] = KRW_TICKS) -> float:
    """The tick size of ``price`` (KRW)."""
    for floor, tick in ticks:
        if price >= floor:
            return tick
    return ticks[-1][1]


def round_price(price: float, side: Side, ticks: tuple[tuple[float, float], ...] = KRW_TICKS) -> float:
    """``price`` on the tick grid, against the trader: buys round up, sells round down.

    >>> round_price(101_234_567.0, "buy"), round_price(101_234_567.0, "sell")
    (101235000.0, 101234000.0)
    >>> round_price(4_321.7, "buy"), round_price(4_321.7, "sell")
    (4322.0, 4321.0)
    """
    tick = tick_size(price, ticks)
    steps = price / tick
    n = math.ceil(steps - 1e-9) if side == "buy" else math.floor(steps + 1e-9)
    # a tick is a power of ten (or 5x one) >= 0.0001: rounding to 4 decimals removes float noise
    return round(n * tick, 4)


def round_quantity(quantity: float, decimals: int) -> float:
    """``quantity`` rounded down to ``decimals`` places.

    >>> round_quantity(0.123456789, 4)
    0.1234
    """
    scale = 10.0 ** decimals
    return math.floor(quantity * scale + 1e-9) / scale


@dataclass(frozen=True, slots=True)
class OrderRules:
    """Which of Bithumb's order rules a paper run applies.

    ``tick_sizes``: fill prices on the KRW tick grid (buys rounded up, sells down); ``min_order_krw``:
    buy orders worth less are rejected (0: no minimum); ``quantity_decimals``: order quantities rounded
    down to this many places (None: no rounding); ``walk_book``: where order books of the symbol are
    stored, market orders at the open fill at the average price of walking the latest snapshot taken
    within one bar before it (instead of the open plus slippage). :meth:`off` gives the backtest engine's
    behaviour.
    """

    tick_sizes: bool = True
    min_order_krw: float = 5_000.0
    quantity_decimals: int | None = 4
    walk_book: bool = True
    ticks: tuple[tuple[float, float], ...] = KRW_TICKS

    def __post_init__(self) -> None:
        if not self.min_order_krw >= 0:
            raise ValidationError(f"min_order_krw must be >= 0 KRW (got {self.min_order_krw})")
        if self.quantity_decimals is not None and not 0 <= self.quantity_decimals <= 12:
            raise ValidationError(f"quantity_decimals must be in 0..12 (got {self.quantity_decimals})")

    @classmethod
    def off(cls) -> OrderRules:
        """No exchange rules: fills exactly as the backtest engine makes them."""
        return cls(tick_sizes=False, min_order_krw=0.0, quantity_decimals=None, walk_book=False)

    @property
    def active(self) -> bool:
        return self.tick_sizes or self.min_order_krw > 0 or self.quantity_decimals is not None

    def price(self, price: float, side: Side) -> float:
        return round_price(price, side, self.ticks) if self.tick_sizes else price

    def quantity(self, quantity: float) -> float:
        return quantity if self.quantity_decimals is None else round_quantity(quantity, self.quantity_decimals)

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["ticks"] = [list(t) for t in self.ticks]
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> OrderRules:
        """The rules of :meth:`to_dict` (as stored JSON); a missing key takes its default, an unknown key or
        a value of the wrong type raises ValidationError."""
        unknown = sorted(set(d) - {"tick_sizes", "min_order_krw", "quantity_decimals", "walk_book", "ticks"})
        if unknown:
            raise ValidationError(f"order rules: unknown key(s) {', '.join(unknown)}")
        default = cls()
        decimals = d.get("quantity_decimals", default.quantity_decimals)
        ticks = default.ticks
        if "ticks" in d:
            pairs = [json_list(t, "order rules ticks[]") for t in json_list(d["ticks"], "order rules ticks")]
            if any(len(p) != 2 for p in pairs):
                raise ValidationError("order rules ticks must be [price floor, tick size] pairs")
            ticks = tuple((json_float(a, "order rules tick floor"), json_float(b, "order rules tick size"))
                          for a, b in pairs)
        return cls(tick_sizes=json_bool(d.get("tick_sizes", default.tick_sizes), "order rules tick_sizes"),
                   min_order_krw=json_float(d.get("min_order_krw", default.min_order_krw),
                                            "order rules min_order_krw"),
                   quantity_decimals=None if decimals is None else json_int(decimals, "order rules quantity_decimals"),
                   walk_book=json_bool(d.get("walk_book", default.walk_book), "order rules walk_book"),
                   ticks=ticks)
