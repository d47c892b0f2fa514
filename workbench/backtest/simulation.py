"""One kernel call for one or many strategies (groups) on the same market data, and its outputs as frames."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.backtest._kernel import (
    REASON_END,
    REASON_SIGNAL,
    REASON_STOP_LOSS,
    REASON_TAKE_PROFIT,
    simulate_nb,
)
from workbench.backtest.config import BacktestConfig
from workbench.backtest.data import MarketData
from workbench.errors import ValidationError
from workbench.strategies.base import Risk

__all__ = ["EXIT_REASONS", "TRADE_COLUMNS", "Simulation", "simulate"]

#: exit reason codes of the kernel -> the names in the trade list ('' while a trade is open)
EXIT_REASONS: dict[int, str] = {0: "", REASON_SIGNAL: "signal", REASON_STOP_LOSS: "stop_loss",
                                REASON_TAKE_PROFIT: "take_profit", REASON_END: "end"}

_REASON_NAMES = np.array([EXIT_REASONS[k] for k in range(len(EXIT_REASONS))], dtype=object)

#: the trade list's columns
TRADE_COLUMNS: tuple[str, ...] = ("symbol", "entry_time", "exit_time", "size", "entry_price", "exit_price",
                                  "fees", "pnl", "ret", "status", "exit_reason")


@dataclass(frozen=True, eq=False)
class Simulation:
    """Raw outputs of one kernel call with ``len(risks)`` groups over ``n_symbols`` columns each."""

    value: np.ndarray          # bars x groups
    exposed: np.ndarray        # per group: bars in the market (from ``begin``)
    trades_int: np.ndarray     # (col, entry_idx, exit_idx, reason)
    trades_float: np.ndarray   # (size, entry_price, exit_price, entry_fee, exit_fee)
    n_symbols: int

    def group_trades(self, group: int, md: MarketData) -> pd.DataFrame:
        """The trade list of group ``group``, in entry order."""
        ti, tf = self.trades_int, self.trades_float
        sel = (ti[:, 0] // self.n_symbols) == group
        ti, tf = ti[sel], tf[sel]
        order = np.lexsort((ti[:, 0], ti[:, 2], ti[:, 1]))
        ti, tf = ti[order], tf[order]
        index = md.index
        symbols = np.asarray(md.symbols, dtype=object)
        is_open = ti[:, 3] == 0
        size, entry_price, exit_price, entry_fee, exit_fee = (tf[:, k] for k in range(5))
        fees = entry_fee + exit_fee
        pnl = size * (exit_price - entry_price) - fees
        exit_time = index[ti[:, 2]].where(~is_open)
        return pd.DataFrame({
            "symbol": symbols[ti[:, 0] % self.n_symbols],
            "entry_time": index[ti[:, 1]],
            "exit_time": exit_time,
            "size": size,
            "entry_price": entry_price,
            "exit_price": exit_price,
            "fees": fees,
            "pnl": pnl,
            "ret": pnl / (size * entry_price + entry_fee),
            "status": np.where(is_open, "open", "closed"),
            "exit_reason": _REASON_NAMES[ti[:, 3]],
        }, columns=list(TRADE_COLUMNS))


def simulate(md: MarketData, entries: np.ndarray, exits: np.ndarray, risks: Sequence[Risk],
             config: BacktestConfig, *, begin: int = 0, close_at_end: bool = False) -> Simulation:
    """Run ``len(risks)`` strategies side by side, each on all of ``md``'s symbols with its own cash.

    ``entries``/``exits`` are bars x (strategies * symbols) booleans, already shifted (True on the bar
    whose open acts on them); columns ``k * n_symbols + j`` belong to strategy ``k``, symbol ``j``.
    """
    n_sym = len(md.symbols)
    k = len(risks)
    if entries.shape != (len(md.index), k * n_sym) or exits.shape != entries.shape:
        raise ValidationError(f"signals must be {len(md.index)} x {k * n_sym}, got {entries.shape}/{exits.shape}")

    def per_col(values: list[float]) -> np.ndarray:
        return np.repeat(np.asarray(values, dtype=np.float64), n_sym)

    value, exposed, t_int, t_float, n_trades = simulate_nb(
        md.array("open"), md.array("high"), md.array("low"), md.array("close"), md.tradeable_array,
        np.ascontiguousarray(entries, dtype=np.bool_), np.ascontiguousarray(exits, dtype=np.bool_),
        np.tile(np.arange(n_sym, dtype=np.int64), k), np.arange(0, (k + 1) * n_sym, n_sym, dtype=np.int64),
        per_col([r.position_fraction for r in risks]),
        per_col([r.stop_loss_pct / 100.0 for r in risks]),
        per_col([r.take_profit_pct / 100.0 for r in risks]),
        np.asarray([r.max_positions for r in risks], dtype=np.int64),
        float(config.initial_capital), float(config.fee_rate), float(config.slippage), float(config.size_step),
        int(begin), bool(close_at_end),
    )
    return Simulation(value, exposed, t_int[:n_trades], t_float[:n_trades], n_sym)
