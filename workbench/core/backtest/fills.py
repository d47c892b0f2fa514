"""The fill primitive: where and at what price an order fills within one bar, and how much it buys.

One definition shared by the backtest kernel (:mod:`workbench.core.backtest._kernel`, which inlines these
compiled functions) and the paper broker (:mod:`workbench.core.paper.engine`, which calls them bar by bar),
so the two cannot diverge. Prices are *base* prices (before slippage and exchange rounding); the
caller moves them against the trader.

Order kinds of a pending buy: market (the open), limit (fills when the bar trades at or below the
price: at the open when it opens there, else at the price), stop (fills when the bar trades at or above
the price: at the open when it opens there, else at the price). Exits of a long position, checked at
the open (a gap) and within the bar: the stop-loss or the trailing stop (whichever is higher), the
take-profit and a sell-limit order (whichever is touched first: the lower one).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "ORDER_LIMIT", "ORDER_MARKET", "ORDER_NONE", "ORDER_STOP", "REASON_END", "REASON_LIMIT", "REASON_NONE",
    "REASON_SIGNAL", "REASON_STOP_LOSS", "REASON_TAKE_PROFIT", "REASON_TIME", "REASON_TRAILING_STOP",
    "buy_quantity", "entry_fill", "exit_at_open", "exit_within_bar", "round_down", "trail_update", "volume_cap",
]

ORDER_NONE = 0
ORDER_MARKET = 1
ORDER_LIMIT = 2
ORDER_STOP = 3

REASON_NONE = 0          # still open
REASON_SIGNAL = 1
REASON_STOP_LOSS = 2
REASON_TAKE_PROFIT = 3
REASON_END = 4           # closed at the last close (close_at_end)
REASON_TRAILING_STOP = 5
REASON_TIME = 6          # held for max_bars bars
REASON_LIMIT = 7         # a sell-limit exit order


@njit(cache=True, nogil=True)
def entry_fill(kind: int, price: float, o: float, h: float, lo: float) -> float:
    """Base price at which a pending buy of ``kind`` at ``price`` fills in the bar (o, h, lo); NaN: it
    does not fill in this bar."""
    if kind == ORDER_MARKET:
        return o
    if kind == ORDER_LIMIT:
        if o <= price:
            return o
        if lo <= price:
            return price
    elif kind == ORDER_STOP:
        if o >= price:
            return o
        if h >= price:
            return price
    return np.nan


@njit(cache=True, nogil=True)
def round_down(qty: float, size_step: float) -> float:
    """``qty`` rounded down to whole multiples of ``size_step`` (0: unchanged)."""
    if size_step > 0.0:
        return float(np.floor(qty / size_step + 1e-9) * size_step)
    return qty


@njit(cache=True, nogil=True)
def buy_quantity(budget: float, px: float, fee_rate: float, size_step: float) -> float:
    """Units ``budget`` KRW buys at ``px`` with the fee on top, rounded down to ``size_step``."""
    return round_down(budget / (px * (1.0 + fee_rate)), size_step)


@njit(cache=True, nogil=True)
def volume_cap(qty: float, volume: float, share: float, size_step: float) -> float:
    """``qty`` limited to ``share`` of the bar's ``volume`` (``share`` 0: no limit)."""
    if share <= 0.0:
        return qty
    cap = round_down(share * volume, size_step)
    return qty if qty <= cap else cap


@njit(cache=True, nogil=True)
def _stop(sl: float, trail: float) -> tuple[float, int]:
    if trail > sl:
        return trail, REASON_TRAILING_STOP
    return sl, REASON_STOP_LOSS


@njit(cache=True, nogil=True)
def exit_at_open(o: float, sl: float, tp: float, trail: float, limit: float) -> int:
    """Reason a position exits at the open ``o`` (it gapped through a level; 0: none). Levels <= 0 are
    off. Fills at the open."""
    stop, why = _stop(sl, trail)
    if stop > 0.0 and o <= stop:
        return why
    if tp > 0.0 and o >= tp:
        return REASON_TAKE_PROFIT
    if limit > 0.0 and o >= limit:
        return REASON_LIMIT
    return REASON_NONE


@njit(cache=True, nogil=True)
def exit_within_bar(o: float, h: float, lo: float, sl: float, tp: float, trail: float,
                    limit: float) -> tuple[int, float]:
    """(reason, base price) of an exit touched within the bar (0: none). The stop first (a bar
    touching a stop and a target is assumed to hit the stop); of a take-profit and a sell limit the
    lower one."""
    stop, why = _stop(sl, trail)
    if stop > 0.0 and lo <= stop:
        return why, min(o, stop)
    if tp > 0.0 and h >= tp and not (limit > 0.0 and limit < tp and h >= limit):
        return REASON_TAKE_PROFIT, max(o, tp)
    if limit > 0.0 and h >= limit:
        return REASON_LIMIT, max(o, limit)
    return REASON_NONE, 0.0


@njit(cache=True, nogil=True)
def trail_update(anchor: float, level: float, high: float, pct: float, atr_mult: float,
                 atr: float) -> tuple[float, float]:
    """(anchor, level) of a trailing stop after a bar with ``high``: the anchor is the highest high
    since entry, the level ``anchor * (1 - pct)`` or ``anchor - atr_mult * atr``; it never falls."""
    if high > anchor:
        anchor = high
    new = 0.0
    if pct > 0.0:
        new = anchor * (1.0 - pct)
    elif atr_mult > 0.0 and atr == atr:
        new = anchor - atr_mult * atr
    if new > level:
        level = new
    return anchor, level
