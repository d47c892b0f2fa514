"""The portfolio kernel: target weights -> orders, one cash account, in small njit primitives.

Compiled once by numba and cached on disk (``cache=True``). One pass over the bars; the work per bar is
one sweep over the symbols (marking to market), plus two more on a rebalance bar: cost linear in
symbols x bars.

Order of events within bar ``i`` (README "Portfolio strategies"):

1. on a rebalance bar (``check[i]``, a target known, and, with ``threshold`` > 0, some symbol's weight at
   the previous close more than ``threshold`` away from its target): the equity ``V`` is valued at the
   open; each symbol with a bar of its own is traded by the net amount ``a = w * V - position value``:
   sells first (a target of 0 sells everything; otherwise enough units that the proceeds after fees are
   ``-a``), then buys (``a`` including fees, at most the cash left), in symbol order; prices are the
   open plus/minus slippage, on the tick grid if ``tick_floors`` is given; quantities are rounded down to
   ``size_step``; an order worth less than ``min_order`` is skipped (a sale of a whole position is not);
2. a symbol whose last stored bar this is (before the data's last bar) is sold at its close;
3. equity is marked at the close.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["ORDER_DELISTED", "ORDER_END", "ORDER_REBALANCE", "drifted_nb", "exit_trades_nb", "lot_round_nb",
           "mark_close_nb", "rebalance_nb", "sell_all_nb", "simulate_portfolio_nb", "tick_round_nb"]

ORDER_REBALANCE = 1
ORDER_DELISTED = 2
ORDER_END = 3          # closed at the last close (close_at_end)

_EPS = 1e-9


@njit(cache=True, nogil=True)
def tick_round_nb(price: float, buy: bool, floors: np.ndarray, ticks: np.ndarray) -> float:
    """``price`` on the tick grid of its level (``floors`` highest first), against the trader: buys up,
    sells down. No grid (empty ``floors``): ``price`` unchanged. The same rule as
    :func:`workbench.core.markets.round_price`."""
    if floors.shape[0] == 0:
        return price
    tick = ticks[ticks.shape[0] - 1]
    for k in range(floors.shape[0]):
        if price >= floors[k]:
            tick = ticks[k]
            break
    steps = price / tick
    n = np.ceil(steps - _EPS) if buy else np.floor(steps + _EPS)
    return float(np.round(n * tick, 4))


@njit(cache=True, nogil=True)
def lot_round_nb(qty: float, size_step: float) -> float:
    """``qty`` rounded down to a whole number of ``size_step`` (0: unchanged)."""
    if size_step > 0.0:
        return float(np.floor(qty / size_step + _EPS) * size_step)
    return qty


@njit(cache=True, nogil=True)
def _record(t: int, bar: int, col: int, reason: int, qty: float, price: float, fee: float,
            out_int: np.ndarray, out_float: np.ndarray) -> None:
    out_int[t, 0] = bar
    out_int[t, 1] = col
    out_int[t, 2] = reason
    out_float[t, 0] = qty
    out_float[t, 1] = price
    out_float[t, 2] = fee


@njit(cache=True, nogil=True)
def sell_qty_nb(amount: float, position: float, target: float, price: float, fee_rate: float,
                size_step: float) -> float:
    """Units to sell so that the proceeds after fees are ``amount`` (> 0); everything when the target
    weight is 0 or the amount needs more than the position."""
    if target == 0.0:
        return position
    qty = lot_round_nb(amount / (price * (1.0 - fee_rate)), size_step)
    return position if qty >= position else qty


@njit(cache=True, nogil=True)
def buy_qty_nb(amount: float, cash: float, price: float, fee_rate: float, size_step: float) -> float:
    """Units bought for ``amount`` KRW including fees (at most ``cash``)."""
    spend = amount if amount < cash else cash
    if spend <= 0.0:
        return 0.0
    return lot_round_nb(spend / (price * (1.0 + fee_rate)), size_step)


@njit(cache=True, nogil=True)
def drifted_nb(position: np.ndarray, close_prev: np.ndarray, value_prev: float, target: np.ndarray,
               threshold: float) -> bool:
    """True when some symbol's weight at the previous close is more than ``threshold`` from its target."""
    if value_prev <= 0.0:
        return True
    for j in range(position.shape[0]):
        w = position[j] * close_prev[j] / value_prev
        if abs(w - target[j]) > threshold:
            return True
    return False


@njit(cache=True, nogil=True)
def sell_all_nb(qty: float, close: float, fee_rate: float, slippage: float, tick_floors: np.ndarray,
                tick_sizes: np.ndarray) -> tuple[float, float]:
    """Price and fee of selling ``qty`` units at ``close`` (a delisting, the end of the data)."""
    px = tick_round_nb(close * (1.0 - slippage), False, tick_floors, tick_sizes)
    return px, qty * px * fee_rate


@njit(cache=True, nogil=True)
def rebalance_nb(bar: int, open_: np.ndarray, tradeable: np.ndarray, target: np.ndarray,  # noqa: PLR0913
                 position: np.ndarray, cash: float, amounts: np.ndarray, fee_rate: float, slippage: float,
                 size_step: float, min_order: float, tick_floors: np.ndarray, tick_sizes: np.ndarray,
                 out_int: np.ndarray, out_float: np.ndarray, t: int) -> tuple[float, int]:
    """Trade ``position`` (units per symbol, changed in place) towards the weights ``target`` at bar
    ``bar``'s open (``open_``, ``tradeable``: that bar's row), step 1 of the module docstring; the fills go
    to rows ``t``... of ``out_int``/``out_float``. Returns ``(cash, t)`` after the fills. Used by the
    kernel and, bar by bar, by the paper runs of portfolio strategies."""
    k = position.shape[0]
    equity = cash
    for j in range(k):
        if position[j] > 0.0:
            equity += position[j] * open_[j]
    # the net amounts of every symbol, from the prices and holdings at the open
    for j in range(k):
        amounts[j] = (target[j] * equity - position[j] * open_[j]) if tradeable[j] else 0.0
    # sells first: they free the cash the buys use
    for j in range(k):
        if amounts[j] >= 0.0 or position[j] <= 0.0:
            continue
        px = tick_round_nb(open_[j] * (1.0 - slippage), False, tick_floors, tick_sizes)
        qty = sell_qty_nb(-amounts[j], position[j], target[j], px, fee_rate, size_step)
        if qty <= 0.0 or (qty < position[j] and qty * px < min_order):
            continue
        fee = qty * px * fee_rate
        cash += qty * px - fee
        position[j] = 0.0 if qty >= position[j] else position[j] - qty
        _record(t, bar, j, ORDER_REBALANCE, -qty, px, fee, out_int, out_float)
        t += 1
    for j in range(k):
        if amounts[j] <= 0.0 or cash <= 0.0:
            continue
        px = tick_round_nb(open_[j] * (1.0 + slippage), True, tick_floors, tick_sizes)
        qty = buy_qty_nb(amounts[j], cash, px, fee_rate, size_step)
        if qty <= 0.0 or qty * px < min_order:
            continue
        fee = qty * px * fee_rate
        cash -= qty * px + fee
        if cash < 0.0:   # float noise of spending all the cash
            cash = 0.0
        position[j] += qty
        _record(t, bar, j, ORDER_REBALANCE, qty, px, fee, out_int, out_float)
        t += 1
    return cash, t


@njit(cache=True, nogil=True)
def mark_close_nb(bar: int, close: np.ndarray, last_bar: np.ndarray, more: bool,  # noqa: PLR0913
                  position: np.ndarray, cash: float, fee_rate: float, slippage: float, tick_floors: np.ndarray,
                  tick_sizes: np.ndarray, out_int: np.ndarray, out_float: np.ndarray,
                  t: int) -> tuple[float, float, int]:
    """Steps 2 and 3 at bar ``bar``'s ``close`` (its row): a held symbol whose last stored bar this is
    (``last_bar[j] == bar``) is sold at its close when ``more`` bars follow; the equity is marked. Returns
    ``(equity, cash, t)``."""
    equity = cash
    for j in range(position.shape[0]):
        if position[j] <= 0.0:
            continue
        if last_bar[j] == bar and more:
            px, fee = sell_all_nb(position[j], close[j], fee_rate, slippage, tick_floors, tick_sizes)
            cash += position[j] * px - fee
            equity += position[j] * px - fee
            _record(t, bar, j, ORDER_DELISTED, -position[j], px, fee, out_int, out_float)
            t += 1
            position[j] = 0.0
        else:
            equity += position[j] * close[j]
    return equity, cash, t


@njit(cache=True, nogil=True)
def simulate_portfolio_nb(open_: np.ndarray, close: np.ndarray, tradeable: np.ndarray,  # noqa: PLR0913
                          last_bar: np.ndarray, target: np.ndarray, check: np.ndarray, threshold: float,
                          initial_cash: float, fee_rate: float, slippage: float, size_step: float,
                          min_order: float, tick_floors: np.ndarray, tick_sizes: np.ndarray,
                          begin: int, close_at_end: bool,
                          ) -> tuple[np.ndarray, np.ndarray, int, np.ndarray, np.ndarray, int, np.ndarray]:
    """Simulate; returns ``(value, cash, exposed, orders_int, orders_float, n_orders, position)``.

    Prices and ``tradeable`` (the symbol has a bar of its own) are bars x symbols; ``last_bar[j]`` is
    the index of symbol ``j``'s last stored bar; ``target`` (bars x symbols) holds on row ``i`` the
    weights to hold from bar ``i``'s open (NaN in column 0: no target yet); ``check[i]``: bar ``i`` is a
    scheduled rebalance. Orders, in the order they were filled: int columns (bar, col, reason), float
    columns (signed quantity: + bought, - sold; price; fee). ``position``: units held after the last bar.
    """
    n, k = open_.shape
    max_orders = 2 * k + 1
    for i in range(begin, n):
        if check[i]:
            max_orders += k
    out_int = np.zeros((max_orders, 3), dtype=np.int64)
    out_float = np.zeros((max_orders, 3), dtype=np.float64)
    value = np.empty(n, dtype=np.float64)
    cash_out = np.empty(n, dtype=np.float64)
    position = np.zeros(k, dtype=np.float64)
    amounts = np.zeros(k, dtype=np.float64)
    cash = initial_cash
    exposed = 0
    t = 0
    for i in range(n):
        held = False
        for j in range(k):
            if position[j] > 0.0:
                held = True
                break
        if i >= begin and check[i] and not np.isnan(target[i, 0]) and (
                threshold <= 0.0 or i == 0
                or drifted_nb(position, close[i - 1], value[i - 1], target[i], threshold)):
            cash, t = rebalance_nb(i, open_[i], tradeable[i], target[i], position, cash, amounts, fee_rate,
                                   slippage, size_step, min_order, tick_floors, tick_sizes, out_int, out_float, t)
            if not held:
                for j in range(k):
                    if position[j] > 0.0:
                        held = True
                        break
        equity, cash, t = mark_close_nb(i, close[i], last_bar, i < n - 1, position, cash, fee_rate, slippage,
                                        tick_floors, tick_sizes, out_int, out_float, t)
        value[i] = equity
        cash_out[i] = cash
        if held and i >= begin:
            exposed += 1
    if close_at_end:
        last = n - 1
        for j in range(k):
            if position[j] <= 0.0:
                continue
            px, fee = sell_all_nb(position[j], close[last, j], fee_rate, slippage, tick_floors, tick_sizes)
            cash += position[j] * px - fee
            _record(t, last, j, ORDER_END, -position[j], px, fee, out_int, out_float)
            t += 1
            position[j] = 0.0
        value[last] = cash
        cash_out[last] = cash
    return value, cash_out, exposed, out_int, out_float, t, position


@njit(cache=True, nogil=True)
def exit_trades_nb(orders_int: np.ndarray, orders_float: np.ndarray, n_cols: int,
                   last_close: np.ndarray, last_idx: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Trades from orders, one per sale (average cost): the sold units, their average entry price and
    their pro-rata share of the position's entry fees; a position still held gives one open trade marked
    at ``last_close``. Returns ``(trades_int, trades_float, n)``: int columns (col, entry_idx, exit_idx,
    reason; 0 = open), float columns (size, entry_price, exit_price, entry_fee, exit_fee)."""
    m = orders_int.shape[0]
    out_int = np.zeros((m + n_cols, 4), dtype=np.int64)
    out_float = np.zeros((m + n_cols, 5), dtype=np.float64)
    pos = np.zeros(n_cols)
    basis = np.zeros(n_cols)        # sum of units x entry price of what is held
    fees = np.zeros(n_cols)         # entry fees of what is held
    first = np.zeros(n_cols, dtype=np.int64)
    t = 0
    for r in range(m):
        bar, col, reason = orders_int[r, 0], orders_int[r, 1], orders_int[r, 2]
        qty, px, fee = orders_float[r, 0], orders_float[r, 1], orders_float[r, 2]
        if qty > 0.0:
            if pos[col] <= 0.0:
                first[col] = bar
                pos[col] = 0.0
                basis[col] = 0.0
                fees[col] = 0.0
            pos[col] += qty
            basis[col] += qty * px
            fees[col] += fee
            continue
        sold = -qty
        share = 1.0 if sold >= pos[col] else sold / pos[col]
        out_int[t, 0] = col
        out_int[t, 1] = first[col]
        out_int[t, 2] = bar
        out_int[t, 3] = reason
        out_float[t, 0] = sold
        out_float[t, 1] = basis[col] / pos[col]
        out_float[t, 2] = px
        out_float[t, 3] = fees[col] * share
        out_float[t, 4] = fee
        t += 1
        if share >= 1.0:
            pos[col] = 0.0
            basis[col] = 0.0
            fees[col] = 0.0
        else:
            pos[col] -= sold
            basis[col] *= 1.0 - share
            fees[col] *= 1.0 - share
    for col in range(n_cols):
        if pos[col] > 0.0:
            out_int[t, 0] = col
            out_int[t, 1] = first[col]
            out_int[t, 2] = last_idx
            out_int[t, 3] = 0
            out_float[t, 0] = pos[col]
            out_float[t, 1] = basis[col] / pos[col]
            out_float[t, 2] = last_close[col]
            out_float[t, 3] = fees[col]
            out_float[t, 4] = 0.0
            t += 1
    return out_int, out_float, t
