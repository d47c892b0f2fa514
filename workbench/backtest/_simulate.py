"""The vectorbt call shared by single runs and sweeps, with a max-open-positions rule per group."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numba import njit

__all__ = ["SimOutput", "simulate"]


@njit(cache=True)
def _signal_func_nb(c, entries, exits, open_state, group_start, group_end, max_positions):  # type: ignore[no-untyped-def]
    """Long-only signals; an entry is skipped while its group already holds ``max_positions``.

    ``open_state[col]`` tracks which columns hold a position as the simulation walks the bars (columns
    of a bar in order). A slot freed by a stop exit counts as free from the next bar on.
    """
    holding = c.position_now != 0
    open_state[c.col] = 1 if holding else 0
    if holding:
        if exits[c.i, c.col]:
            open_state[c.col] = 0
            return False, True, False, False
        return False, False, False, False
    if entries[c.i, c.col]:
        n_open = 0
        for k in range(group_start[c.col], group_end[c.col]):
            n_open += open_state[k]
        if n_open < max_positions[c.col]:
            open_state[c.col] = 1
            return True, False, False, False
    return False, False, False, False


@dataclass(frozen=True)
class SimOutput:
    value: pd.DataFrame          # equity per group (columns: group labels)
    trades: pd.DataFrame         # one row per trade, with column and group
    group_labels: list[object]


def simulate(
    *,
    open_: pd.DataFrame,
    high: pd.DataFrame,
    low: pd.DataFrame,
    close: pd.DataFrame,
    entries: np.ndarray,
    exits: np.ndarray,
    groups: np.ndarray,
    group_labels: list[object],
    fraction: np.ndarray,
    max_positions: np.ndarray,
    sl_stop: np.ndarray,
    tp_stop: np.ndarray,
    initial_capital: float,
    fee_rate: float,
    slippage: float,
    freq: pd.Timedelta,
) -> SimOutput:
    """Run vectorbt's ``from_signals`` over columns that belong to groups sharing one cash account.

    Per-column arrays (``fraction``, ``max_positions``, ``sl_stop``, ``tp_stop``) have one value per column;
    ``groups`` gives each column's group number (0..n_groups-1, contiguous).
    """
    import vectorbt as vbt

    # vectorbt turns a tz-aware index into Python Timestamps over and over (about 1 s per 500k bars,
    # ten times a run); hand it the same instants tz-naive and put UTC back on the results.
    utc_index = close.index
    naive_index = utc_index.tz_localize(None) if getattr(utc_index, "tz", None) is not None else utc_index
    naive = {name: f.set_axis(naive_index)
             for name, f in (("open", open_), ("high", high), ("low", low), ("close", close))}
    ncols = close.shape[1]
    starts = np.zeros(ncols, dtype=np.int64)
    ends = np.zeros(ncols, dtype=np.int64)
    for g in np.unique(groups):
        cols = np.flatnonzero(groups == g)
        starts[cols], ends[cols] = cols[0], cols[-1] + 1
    state = np.zeros(ncols, dtype=np.int64)
    pf = vbt.Portfolio.from_signals(
        naive["close"],
        signal_func_nb=_signal_func_nb,
        signal_args=(np.ascontiguousarray(entries), np.ascontiguousarray(exits), state, starts, ends,
                     max_positions.astype(np.int64)),
        size=fraction[None, :],
        size_type="percent",
        price=naive["open"],
        open=naive["open"],
        high=naive["high"],
        low=naive["low"],
        sl_stop=sl_stop[None, :],
        tp_stop=tp_stop[None, :],
        stop_entry_price="fillprice",
        fees=fee_rate,
        slippage=slippage,
        init_cash=initial_capital,
        cash_sharing=True,
        group_by=groups,
        freq=freq,
    )
    value = pd.DataFrame(np.asarray(pf.value()), index=utc_index, columns=group_labels)
    rec = pf.trades.values
    trades = pd.DataFrame({
        "col": rec["col"],
        "group": groups[rec["col"]],
        "size": rec["size"],
        "entry_idx": rec["entry_idx"],
        "entry_price": rec["entry_price"],
        "entry_fees": rec["entry_fees"],
        "exit_idx": rec["exit_idx"],
        "exit_price": rec["exit_price"],
        "exit_fees": rec["exit_fees"],
        "pnl": rec["pnl"],
        "return": rec["return"],
        "status": np.where(rec["status"] == 1, "closed", "open"),
    })
    return SimOutput(value=value, trades=trades, group_labels=group_labels)
