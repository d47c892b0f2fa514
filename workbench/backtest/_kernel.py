"""The simulation kernel: one pass over the bars, long-only, several symbols sharing one cash account per
group (a group is one strategy; a sweep runs many groups side by side). Compiled once by numba and cached
on disk (``cache=True``): a new process loads it instead of compiling it.

Order of events within bar ``i`` of a group (the fill rules of README "Fill rules"):

1. exit signals fill at the open;
2. positions whose stop-loss or take-profit the open gapped through fill at the open;
3. entry signals fill at the open, in column (symbol) order, while the group holds fewer than
   ``max_positions``: each gets ``fraction`` of the group's equity at the open (at most the cash left),
   and its stops are set from its fill price;
4. stops touched within the bar fill at their price (a bar touching both: the stop-loss);
5. equity is marked at the close.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["REASON_END", "REASON_NONE", "REASON_SIGNAL", "REASON_STOP_LOSS", "REASON_TAKE_PROFIT",
           "simulate_nb"]

REASON_NONE = 0         # still open
REASON_SIGNAL = 1
REASON_STOP_LOSS = 2
REASON_TAKE_PROFIT = 3
REASON_END = 4          # closed at the last close (close_at_end)


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
def simulate_nb(open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray,  # noqa: PLR0913
                tradeable: np.ndarray, entries: np.ndarray, exits: np.ndarray,
                col_symbol: np.ndarray, group_start: np.ndarray, fraction: np.ndarray,
                sl_stop: np.ndarray, tp_stop: np.ndarray, max_positions: np.ndarray,
                initial_cash: float, fee_rate: float, slippage: float, size_step: float,
                begin: int, close_at_end: bool):  # type: ignore[no-untyped-def]
    """Simulate; returns ``(value, exposed, trades_int, trades_float, n_trades)``.

    Prices are bars x symbols; ``entries``/``exits`` bars x columns; a column trades symbol
    ``col_symbol[col]``; the columns of group ``g`` are ``group_start[g]:group_start[g + 1]``.
    ``sl_stop``/``tp_stop`` are fractions of the fill price (0: none). ``value`` is the equity of each
    group at each close; ``exposed`` counts the bars from ``begin`` on in which the group held a
    position at any moment. Trades: int columns (col, entry_idx, exit_idx, reason), float columns (size,
    entry_price, exit_price, entry_fee, exit_fee), in the order they were closed, open ones last.
    """
    n = open_.shape[0]
    ncols = entries.shape[1]
    ngroups = group_start.shape[0] - 1
    max_trades = 1
    for col in range(ncols):
        for i in range(begin, n):
            if entries[i, col]:
                max_trades += 1
    out_int = np.zeros((max_trades, 4), dtype=np.int64)
    out_float = np.zeros((max_trades, 5), dtype=np.float64)
    value = np.empty((n, ngroups), dtype=np.float64)
    exposed = np.zeros(ngroups, dtype=np.int64)
    cash = np.full(ngroups, initial_cash)
    n_open = np.zeros(ngroups, dtype=np.int64)
    size = np.zeros(ncols)
    entry_price = np.zeros(ncols)
    entry_fee = np.zeros(ncols)
    entry_idx = np.zeros(ncols, dtype=np.int64)
    sl_price = np.zeros(ncols)
    tp_price = np.zeros(ncols)
    t = 0
    px = 0.0
    fee = 0.0
    for i in range(n):
        for g in range(ngroups):
            c0, c1 = group_start[g], group_start[g + 1]
            was_exposed = n_open[g] > 0
            # 1. exit signals, 2. gaps through a stop: both at the open
            for col in range(c0, c1):
                if size[col] <= 0.0:
                    continue
                s = col_symbol[col]
                o = open_[i, s]
                reason = REASON_NONE
                if exits[i, col]:
                    reason = REASON_SIGNAL
                elif sl_price[col] > 0.0 and o <= sl_price[col]:
                    reason = REASON_STOP_LOSS
                elif tp_price[col] > 0.0 and o >= tp_price[col]:
                    reason = REASON_TAKE_PROFIT
                if reason != REASON_NONE:
                    px = o * (1.0 - slippage)
                    fee = size[col] * px * fee_rate
                    cash[g] += size[col] * px - fee
                    _record(t, col, entry_idx[col], i, size[col], entry_price[col], px, entry_fee[col], fee,
                            reason, out_int, out_float)
                    t += 1
                    size[col] = 0.0
                    n_open[g] -= 1
            # 3. entries at the open
            if i >= begin:
                equity_open = cash[g]
                for col in range(c0, c1):
                    if size[col] > 0.0:
                        equity_open += size[col] * open_[i, col_symbol[col]]
                for col in range(c0, c1):
                    if size[col] > 0.0 or not entries[i, col] or n_open[g] >= max_positions[g]:
                        continue
                    s = col_symbol[col]
                    if not tradeable[i, s]:
                        continue
                    px = open_[i, s] * (1.0 + slippage)
                    budget = min(fraction[col] * equity_open, cash[g])
                    qty = budget / (px * (1.0 + fee_rate))
                    if size_step > 0.0:
                        qty = np.floor(qty / size_step + 1e-9) * size_step
                    if qty <= 0.0:
                        continue
                    fee = qty * px * fee_rate
                    cash[g] -= qty * px + fee
                    size[col] = qty
                    entry_price[col] = px
                    entry_fee[col] = fee
                    entry_idx[col] = i
                    sl_price[col] = px * (1.0 - sl_stop[col]) if sl_stop[col] > 0.0 else 0.0
                    tp_price[col] = px * (1.0 + tp_stop[col]) if tp_stop[col] > 0.0 else 0.0
                    n_open[g] += 1
                    was_exposed = True
            # 4. stops within the bar (the stop-loss first), 5. mark at the close
            equity = cash[g]
            for col in range(c0, c1):
                if size[col] <= 0.0:
                    continue
                s = col_symbol[col]
                reason = REASON_NONE
                if sl_price[col] > 0.0 and low[i, s] <= sl_price[col]:
                    reason = REASON_STOP_LOSS
                    px = min(open_[i, s], sl_price[col]) * (1.0 - slippage)
                elif tp_price[col] > 0.0 and high[i, s] >= tp_price[col]:
                    reason = REASON_TAKE_PROFIT
                    px = max(open_[i, s], tp_price[col]) * (1.0 - slippage)
                if reason != REASON_NONE:
                    fee = size[col] * px * fee_rate
                    cash[g] += size[col] * px - fee
                    equity += size[col] * px - fee
                    _record(t, col, entry_idx[col], i, size[col], entry_price[col], px, entry_fee[col], fee,
                            reason, out_int, out_float)
                    t += 1
                    size[col] = 0.0
                    n_open[g] -= 1
                else:
                    equity += size[col] * close[i, s]
            value[i, g] = equity
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
                cash[g] += size[col] * px - fee
                _record(t, col, entry_idx[col], last, size[col], entry_price[col], px, entry_fee[col], fee,
                        REASON_END, out_int, out_float)
                value[last, g] += size[col] * (px - close[last, s]) - fee
            else:
                _record(t, col, entry_idx[col], last, size[col], entry_price[col], close[last, s],
                        entry_fee[col], 0.0, REASON_NONE, out_int, out_float)
            t += 1
    return value, exposed, out_int, out_float, t
