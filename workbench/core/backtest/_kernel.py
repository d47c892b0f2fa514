"""The simulation kernel: one pass over the bars, long-only, several symbols sharing one cash account per
group (a group is one strategy; a sweep runs many groups side by side). Compiled once by numba and cached
on disk (``cache=True``): a new process loads it instead of compiling it. Where and at what price an
order fills is decided by the shared fill primitive (:mod:`workbench.core.backtest.fills`), which the paper
broker calls too.

Order of events within bar ``i`` of a group (the fill rules of README "Fill rules"):

1. exit signals fill at the open (an exit signal with a limit price places a sell-limit order instead);
   positions whose stop-loss, trailing stop, take-profit or sell limit the open gapped through fill at
   the open, and so do positions held ``max_bars`` bars; the rest of a volume-capped exit sells on;
2. entry signals place buy orders (market, limit or stop; a new signal replaces a waiting order, an
   exit signal cancels it); pending buys fill in column (symbol) order while the group holds fewer than
   ``max_positions``, each at its own price (:func:`~workbench.core.backtest.fills.entry_fill`), sized on
   the group's equity at the open (at most the cash left); market orders that cannot fill are dropped,
   limit and stop orders wait; stops are set from the fill price;
3. stops, targets and sell limits touched within the bar fill at their price (a bar touching a stop
   and a target: the stop); a position entered by a limit or stop order is checked from the next bar
   on (the order of the bar's high and low around its fill is not known);
4. trailing stops move up to the bar's high; equity is marked at the close.

With ``volume_share`` > 0 a fill takes at most that share of the bar's volume; the rest of the order
fills on later bars (the rest of a buy at its order's price, the rest of a sell at the opens). A trade
then has several fills: its prices are the volume-weighted averages.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from workbench.core.backtest.fills import (
    ORDER_LIMIT,
    ORDER_MARKET,
    ORDER_NONE,
    ORDER_STOP,
    REASON_END,
    REASON_LIMIT,
    REASON_NONE,
    REASON_SIGNAL,
    REASON_STOP_LOSS,
    REASON_TAKE_PROFIT,
    REASON_TIME,
    REASON_TRAILING_STOP,
    buy_quantity,
    entry_fill,
    exit_at_open,
    exit_within_bar,
    trail_update,
    volume_cap,
)

__all__ = ["REASON_END", "REASON_LIMIT", "REASON_NONE", "REASON_SIGNAL", "REASON_STOP_LOSS",
           "REASON_TAKE_PROFIT", "REASON_TIME", "REASON_TRAILING_STOP", "simulate_nb"]


@njit(cache=True, nogil=True)
def _record(t: int, col: int, entry_idx: int, exit_idx: int, size: float, entry_price: float,
            exit_price: float, entry_fee: float, exit_fee: float, reason: int,
            out_int: np.ndarray, out_float: np.ndarray) -> None:
    out_int[t, 0] = col
    out_int[t, 1] = entry_idx
    out_int[t, 2] = exit_idx
    out_int[t, 3] = reason
    out_float[t, 0] = size
    out_float[t, 1] = entry_price
    out_float[t, 2] = exit_price
    out_float[t, 3] = entry_fee
    out_float[t, 4] = exit_fee


@njit(cache=True, nogil=True)
def _fill(f: int, col: int, bar: int, side: int, reason: int, qty: float, px: float, fee: float,
          fill_int: np.ndarray, fill_float: np.ndarray) -> None:
    """Write fill ``f`` if the arrays have room (the caller counts them all and retries with room)."""
    if f >= fill_int.shape[0]:
        return
    fill_int[f, 0] = col
    fill_int[f, 1] = bar
    fill_int[f, 2] = side
    fill_int[f, 3] = reason
    fill_float[f, 0] = qty
    fill_float[f, 1] = px
    fill_float[f, 2] = fee


@njit(cache=True, nogil=True)
def _sell(col: int, bar: int, reason: int, qty: float, px: float, fee_rate: float, size: np.ndarray,  # noqa: PLR0913
          bought: np.ndarray, sold: np.ndarray, sold_value: np.ndarray, sold_fee: np.ndarray, exiting: np.ndarray,
          entry_idx: np.ndarray, entry_price: np.ndarray, entry_fee: np.ndarray, out_int: np.ndarray,
          out_float: np.ndarray, t: int, fill_int: np.ndarray, fill_float: np.ndarray,
          f: int) -> tuple[float, int, int, bool]:
    """Sell ``qty`` of column ``col``'s position at ``px`` in ``bar`` for ``reason``: the one sell of the
    kernel's three exits (at the open, within the bar, at the end). Less than the position (a volume-capped
    part, 0 in a bar without volume) leaves it selling on (``exiting``); the whole of it closes the trade
    (its record, at the volume-weighted price of all its sells). Returns (net proceeds, next trade row,
    next fill row, closed)."""
    if qty <= 0.0:
        exiting[col] = reason
        return 0.0, t, f, False
    fee = qty * px * fee_rate
    proceeds = qty * px - fee
    _fill(f, col, bar, 1, reason, qty, px, fee, fill_int, fill_float)
    f += 1
    if qty < size[col]:
        size[col] -= qty
        sold[col] += qty
        sold_value[col] += qty * px
        sold_fee[col] += fee
        exiting[col] = reason
        return proceeds, t, f, False
    if sold[col] > 0.0:
        px = (sold_value[col] + qty * px) / bought[col]
        fee += sold_fee[col]
    _record(t, col, entry_idx[col], bar, bought[col], entry_price[col], px, entry_fee[col], fee, reason,
            out_int, out_float)
    size[col] = 0.0
    return proceeds, t + 1, f, True


@njit(cache=True, nogil=True)
def simulate_nb(open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray,  # noqa: PLR0912,PLR0913,PLR0915,C901
                volume: np.ndarray, tradeable: np.ndarray, entries: np.ndarray, exits: np.ndarray,
                entry_limit: np.ndarray, entry_stop: np.ndarray, exit_limit: np.ndarray, entry_size: np.ndarray,
                atr: np.ndarray, col_symbol: np.ndarray, group_start: np.ndarray, fraction: np.ndarray,
                fixed_krw: np.ndarray, sl_stop: np.ndarray, tp_stop: np.ndarray, trail_pct: np.ndarray,
                trail_atr: np.ndarray, max_bars: np.ndarray, max_positions: np.ndarray,
                initial_cash: float, fee_rate: float, slippage: float, size_step: float, volume_share: float,
                begin: int, close_at_end: bool, fill_room: int,
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, np.ndarray, np.ndarray, int]:
    """Simulate; returns ``(value, exposed, trades_int, trades_float, n_trades, fills_int, fills_float,
    n_fills)``.

    Prices are bars x symbols; ``entries``/``exits`` bars x columns; a column trades symbol
    ``col_symbol[col]``; the columns of group ``g`` are ``group_start[g]:group_start[g + 1]``.
    ``entry_limit``/``entry_stop``/``exit_limit`` (prices, NaN: market), ``entry_size`` (fraction of
    equity, NaN: the column's ``fraction``) and ``atr`` are bars x columns, or 0 x 0 when not used;
    ``volume`` is bars x symbols, or 0 x 0 when ``volume_share`` is 0. Per column: ``fixed_krw`` (> 0:
    a fixed budget instead of ``fraction`` of equity), ``sl_stop``/``tp_stop``/``trail_pct``
    (fractions of the fill price; 0: none), ``trail_atr`` (ATR multiple; 0: none) and ``max_bars``
    (0: none). ``value`` is the equity of each group at each close (groups x bars); ``exposed`` counts the bars from
    ``begin`` on in which the group held a position at any moment. Trades: int columns (col,
    entry_idx, exit_idx, reason), float columns (size, entry_price, exit_price, entry_fee, exit_fee), in
    the order they were closed, open ones last. Fills: int (col, bar, side 0 buy / 1 sell, reason),
    float (quantity, price, fee); room for ``max(fill_room, 2 * (entry signals + 1))`` of them: when
    ``n_fills`` is larger (volume-capped orders), only that many were written and the caller runs again
    with ``fill_room=n_fills``.
    """
    n = open_.shape[0]
    ncols = entries.shape[1]
    ngroups = group_start.shape[0] - 1
    has_elimit = entry_limit.shape[0] > 0
    has_estop = entry_stop.shape[0] > 0
    has_xlimit = exit_limit.shape[0] > 0
    has_size = entry_size.shape[0] > 0
    has_atr = atr.shape[0] > 0
    capped = volume_share > 0.0
    max_trades = 1
    for col in range(ncols):
        for i in range(begin, n):
            if entries[i, col]:
                max_trades += 1
    out_int = np.empty((max_trades, 4), dtype=np.int64)      # rows [:n_trades] and [:n_fills] are written
    out_float = np.empty((max_trades, 5), dtype=np.float64)
    room = max(fill_room, 2 * max_trades)
    fill_int = np.empty((room, 4), dtype=np.int64)
    fill_float = np.empty((room, 3), dtype=np.float64)
    value = np.empty((ngroups, n), dtype=np.float64)   # a group's curve is one contiguous row
    exposed = np.zeros(ngroups, dtype=np.int64)
    cash = np.full(ngroups, initial_cash)
    n_open = np.zeros(ngroups, dtype=np.int64)
    size = np.zeros(ncols)            # units held now
    bought = np.zeros(ncols)          # units bought in this trade (size + units sold so far)
    entry_price = np.zeros(ncols)
    entry_fee = np.zeros(ncols)
    entry_idx = np.zeros(ncols, dtype=np.int64)
    entry_kind = np.zeros(ncols, dtype=np.int64)
    sl_price = np.zeros(ncols)
    tp_price = np.zeros(ncols)
    trail_price = np.zeros(ncols)
    trail_anchor = np.zeros(ncols)
    sell_limit = np.zeros(ncols)
    watch = np.zeros(ncols, dtype=np.bool_)      # the position has a level to check or a trail to move
    pend_kind = np.zeros(ncols, dtype=np.int64)
    pend_price = np.zeros(ncols)
    pend_frac = np.zeros(ncols)
    pend_rest = np.zeros(ncols)       # units of a volume-capped buy still to fill
    exiting = np.zeros(ncols, dtype=np.int64)   # reason of a volume-capped sell still selling
    sold = np.zeros(ncols)
    sold_value = np.zeros(ncols)
    sold_fee = np.zeros(ncols)
    t = 0
    f = 0
    px = 0.0
    fee = 0.0
    for i in range(n):
        for g in range(ngroups):
            c0, c1 = group_start[g], group_start[g + 1]
            was_exposed = n_open[g] > 0
            # 1. at the open: exit signals, gaps through a level, time exits, rests of capped sells
            for col in range(c0, c1):
                if size[col] <= 0.0:
                    if exits[i, col] and pend_kind[col] != ORDER_NONE:
                        pend_kind[col] = ORDER_NONE         # an exit signal cancels a waiting buy
                    continue
                s = col_symbol[col]
                o = open_[i, s]
                reason = exiting[col]
                if reason == REASON_NONE and exits[i, col]:
                    if has_xlimit and exit_limit[i, col] == exit_limit[i, col]:
                        sell_limit[col] = exit_limit[i, col]
                        watch[col] = True
                    else:
                        reason = REASON_SIGNAL
                if reason == REASON_NONE and watch[col]:
                    reason = exit_at_open(o, sl_price[col], tp_price[col], trail_price[col], sell_limit[col])
                if reason == REASON_NONE and max_bars[col] > 0 and i - entry_idx[col] >= max_bars[col]:
                    reason = REASON_TIME
                if reason != REASON_NONE:
                    px = o * (1.0 - slippage)
                    qty = size[col]
                    pend_kind[col] = ORDER_NONE             # the rest of a capped buy is cancelled
                    if capped:
                        qty = volume_cap(qty, volume[i, s], volume_share, size_step)
                    proceeds, t, f, closed = _sell(col, i, reason, qty, px, fee_rate, size, bought, sold, sold_value,
                                                   sold_fee, exiting, entry_idx, entry_price, entry_fee, out_int,
                                                   out_float, t, fill_int, fill_float, f)
                    cash[g] += proceeds
                    if closed:
                        n_open[g] -= 1
            # 2. buy orders: placed by the entry signals, filled at their price
            if i >= begin:
                equity_open = np.nan     # the group's equity at the open, summed before its first order
                for col in range(c0, c1):
                    if entries[i, col] and size[col] <= 0.0:
                        kind = ORDER_MARKET
                        if has_elimit and entry_limit[i, col] == entry_limit[i, col]:
                            kind = ORDER_LIMIT
                            pend_price[col] = entry_limit[i, col]
                        elif has_estop and entry_stop[i, col] == entry_stop[i, col]:
                            kind = ORDER_STOP
                            pend_price[col] = entry_stop[i, col]
                        pend_kind[col] = kind
                        pend_frac[col] = fraction[col]
                        if has_size and entry_size[i, col] == entry_size[i, col]:
                            pend_frac[col] = entry_size[i, col]
                        pend_rest[col] = 0.0
                    kind = pend_kind[col]
                    if kind == ORDER_NONE:
                        continue
                    if equity_open != equity_open:      # nothing has filled in this phase yet
                        equity_open = cash[g]
                        for c in range(c0, c1):
                            if size[c] > 0.0:
                                equity_open += size[c] * open_[i, col_symbol[c]]
                    rest = pend_rest[col] > 0.0
                    if kind == ORDER_MARKET and not rest:
                        pend_kind[col] = ORDER_NONE         # a market order gets one chance
                    if (size[col] > 0.0 and not rest) or (not rest and n_open[g] >= max_positions[g]):
                        continue
                    s = col_symbol[col]
                    if not tradeable[i, s]:
                        continue
                    base = entry_fill(kind, pend_price[col], open_[i, s], high[i, s], low[i, s])
                    if base != base:
                        continue
                    px = base * (1.0 + slippage)
                    if rest:
                        qty = min(pend_rest[col], buy_quantity(cash[g], px, fee_rate, size_step))
                    else:
                        if fixed_krw[col] > 0.0:
                            budget = min(fixed_krw[col], cash[g])
                        else:
                            budget = min(pend_frac[col] * equity_open, cash[g])
                        qty = buy_quantity(budget, px, fee_rate, size_step)
                    want = qty
                    if capped:
                        qty = volume_cap(qty, volume[i, s], volume_share, size_step)
                    if qty <= 0.0:
                        if capped and want > 0.0 and not rest:     # no volume in this bar: wait
                            pend_kind[col] = kind
                        continue
                    fee = qty * px * fee_rate
                    cash[g] -= qty * px + fee
                    _fill(f, col, i, 0, REASON_SIGNAL, qty, px, fee, fill_int, fill_float)
                    f += 1
                    if rest:
                        entry_price[col] = (entry_price[col] * size[col] + qty * px) / (size[col] + qty)
                        entry_fee[col] += fee
                        size[col] += qty
                        bought[col] += qty
                        pend_rest[col] -= qty
                        if pend_rest[col] <= 0.0:
                            pend_kind[col] = ORDER_NONE
                        continue
                    size[col] = qty
                    bought[col] = qty
                    sold[col] = 0.0
                    sold_value[col] = 0.0
                    sold_fee[col] = 0.0
                    exiting[col] = REASON_NONE
                    sell_limit[col] = 0.0
                    entry_price[col] = px
                    entry_fee[col] = fee
                    entry_idx[col] = i
                    entry_kind[col] = kind
                    sl_price[col] = px * (1.0 - sl_stop[col]) if sl_stop[col] > 0.0 else 0.0
                    tp_price[col] = px * (1.0 + tp_stop[col]) if tp_stop[col] > 0.0 else 0.0
                    trail_price[col] = 0.0
                    trail_anchor[col] = px
                    watch[col] = sl_stop[col] > 0.0 or tp_stop[col] > 0.0 or trail_pct[col] > 0.0 \
                        or trail_atr[col] > 0.0
                    if trail_pct[col] > 0.0 or trail_atr[col] > 0.0:
                        a = atr[i - 1, col] if has_atr and i > 0 else np.nan
                        trail_anchor[col], trail_price[col] = trail_update(px, 0.0, px, trail_pct[col],
                                                                           trail_atr[col], a)
                    if want > qty:
                        pend_rest[col] = want - qty
                        pend_kind[col] = kind
                    else:
                        pend_kind[col] = ORDER_NONE
                    n_open[g] += 1
                    was_exposed = True
            # 3. levels touched within the bar (the stop first), 4. trailing stops move, mark at the close
            equity = cash[g]
            for col in range(c0, c1):
                if size[col] <= 0.0:
                    continue
                s = col_symbol[col]
                if not watch[col] and exiting[col] == REASON_NONE:     # no level to check, no trail to move
                    equity += size[col] * close[i, s]
                    continue
                reason = REASON_NONE
                base = 0.0
                if exiting[col] == REASON_NONE:
                    o, h, lo = open_[i, s], high[i, s], low[i, s]
                    if entry_idx[col] != i or entry_kind[col] == ORDER_MARKET:
                        reason, base = exit_within_bar(o, h, lo, sl_price[col], tp_price[col], trail_price[col],
                                                       sell_limit[col])
                    if reason != REASON_NONE:
                        px = base * (1.0 - slippage)
                if reason != REASON_NONE:
                    pend_kind[col] = ORDER_NONE
                    qty = size[col]
                    if capped:
                        qty = volume_cap(qty, volume[i, s], volume_share, size_step)
                    proceeds, t, f, closed = _sell(col, i, reason, qty, px, fee_rate, size, bought, sold, sold_value,
                                                   sold_fee, exiting, entry_idx, entry_price, entry_fee, out_int,
                                                   out_float, t, fill_int, fill_float, f)
                    cash[g] += proceeds
                    equity += proceeds
                    if not closed:
                        equity += size[col] * close[i, s]
                        continue
                    n_open[g] -= 1
                else:
                    if trail_pct[col] > 0.0 or trail_atr[col] > 0.0:
                        trail_anchor[col], trail_price[col] = trail_update(
                            trail_anchor[col], trail_price[col], high[i, s], trail_pct[col], trail_atr[col],
                            atr[i, col] if has_atr else np.nan)
                    equity += size[col] * close[i, s]
            value[g, i] = equity
            if was_exposed and i >= begin:
                exposed[g] += 1
    # positions still open at the end: closed at the last close, or reported open and marked there
    last = n - 1
    for g in range(ngroups):
        for col in range(group_start[g], group_start[g + 1]):
            if size[col] <= 0.0:
                continue
            s = col_symbol[col]
            if close_at_end:
                px = close[last, s] * (1.0 - slippage)
                fee = size[col] * px * fee_rate
                value[g, last] += size[col] * (px - close[last, s]) - fee
                proceeds, t, f, _ = _sell(col, last, REASON_END, size[col], px, fee_rate, size, bought, sold,
                                          sold_value, sold_fee, exiting, entry_idx, entry_price, entry_fee, out_int,
                                          out_float, t, fill_int, fill_float, f)
                cash[g] += proceeds
            else:
                px = close[last, s]
                fee = 0.0
                if sold[col] > 0.0:
                    px = (sold_value[col] + size[col] * px) / bought[col]
                    fee = sold_fee[col]
                _record(t, col, entry_idx[col], last, bought[col], entry_price[col], px,
                        entry_fee[col], fee, REASON_NONE, out_int, out_float)
                t += 1
    return value, exposed, out_int, out_float, t, fill_int, fill_float, f
