"""One kernel call for one or many strategies (groups) on the same market data, and its outputs as frames."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd

from workbench.core.backtest._kernel import (
    REASON_END,
    REASON_LIMIT,
    REASON_SIGNAL,
    REASON_STOP_LOSS,
    REASON_TAKE_PROFIT,
    REASON_TIME,
    REASON_TRAILING_STOP,
    simulate_nb,
)
from workbench.core.backtest.config import BacktestConfig
from workbench.core.backtest.data import MarketData
from workbench.core.backtest.sizing import entry_fractions
from workbench.core.backtest.stats import TradeStats
from workbench.core.strategies.base import Risk
from workbench.errors import ValidationError

__all__ = ["EXIT_REASONS", "FILL_COLUMNS", "TRADE_COLUMNS", "Signals", "Simulation", "simulate", "trade_table"]

#: exit reason codes of the kernel -> the names in the trade list ('' while a trade is open)
EXIT_REASONS: dict[int, str] = {0: "", REASON_SIGNAL: "signal", REASON_STOP_LOSS: "stop_loss",
                                REASON_TAKE_PROFIT: "take_profit", REASON_END: "end",
                                REASON_TRAILING_STOP: "trailing_stop", REASON_TIME: "time", REASON_LIMIT: "limit"}

_REASON_NAMES = np.array([EXIT_REASONS[k] for k in range(len(EXIT_REASONS))], dtype=object)

#: the trade list's columns
TRADE_COLUMNS: tuple[str, ...] = ("symbol", "entry_time", "exit_time", "size", "entry_price", "exit_price",
                                  "fees", "pnl", "ret", "status", "exit_reason")
#: the fill list's columns (one row per fill; a volume-capped order fills in parts)
FILL_COLUMNS: tuple[str, ...] = ("symbol", "ts", "side", "quantity", "price", "fee", "reason")


def _entry_order(ti: np.ndarray, tf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The records sorted by entry bar, exit bar and symbol (as the kernel writes them, in close order,
    when each entry is later than the one before: one symbol's trades; then no copy)."""
    entry = ti[:, 1]
    if len(entry) > 1 and not bool(np.all(entry[1:] > entry[:-1])):
        order = np.lexsort((ti[:, 0], ti[:, 2], entry))
        return ti[order], tf[order]
    return ti, tf


def _pnl(tf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fees, pnl) of trade records' float columns."""
    fees = tf[:, 3] + tf[:, 4]
    return fees, tf[:, 0] * (tf[:, 2] - tf[:, 1]) - fees


def record_stats(ti: np.ndarray, tf: np.ndarray) -> TradeStats:
    """The metrics' view of trade records (as :func:`trade_table` takes them) without building the list:
    the same values :func:`~workbench.core.backtest.stats.trade_stats` reads from the list."""
    ti, tf = _entry_order(ti, tf)
    fees, pnl = _pnl(tf)
    is_open = ti[:, 3] == 0
    exit_key = np.where(is_open, np.iinfo(np.int64).max, ti[:, 2])   # the list's exit time: NaT (last) when open
    if len(exit_key) > 1 and not bool(np.all(exit_key[1:] >= exit_key[:-1])):
        by_exit = pnl[np.argsort(exit_key, kind="stable")]
    else:
        by_exit = pnl
    # fees.sum() is what pandas' Series.sum computes for values without NaN (numpy's pairwise sum)
    return TradeStats(pnl, by_exit, float(fees.sum()) if len(fees) else 0.0, int(is_open.sum()))


def trade_table(ti: np.ndarray, tf: np.ndarray, md: MarketData, reason_names: np.ndarray) -> pd.DataFrame:
    """The trade list (:data:`TRADE_COLUMNS`, in entry order) of trade records: ``ti`` rows (symbol position,
    entry bar, exit bar, reason code; 0 = still open), ``tf`` rows (size, entry price, exit price, entry fee,
    exit fee); ``reason_names`` maps the reason codes to names. Shared by the per-symbol and portfolio engines."""
    ti, tf = _entry_order(ti, tf)
    is_open = ti[:, 3] == 0
    size, entry_price, entry_fee = tf[:, 0], tf[:, 1], tf[:, 3]
    fees, pnl = _pnl(tf)
    exit_price = tf[:, 2]
    return pd.DataFrame({
        "symbol": np.asarray(md.symbols, dtype=object)[ti[:, 0]],
        "entry_time": md.index[ti[:, 1]],
        "exit_time": md.index[ti[:, 2]].where(~is_open),
        "size": size,
        "entry_price": entry_price,
        "exit_price": exit_price,
        "fees": fees,
        "pnl": pnl,
        "ret": pnl / (size * entry_price + entry_fee),
        "status": np.where(is_open, "open", "closed"),
        "exit_reason": reason_names[ti[:, 3]],
    }, columns=list(TRADE_COLUMNS))


class Signals(NamedTuple):
    """One strategy's shifted signals (bars x symbols, True on the bar whose open acts on them) and,
    where it gives them, its order prices and sizes (bars x symbols, NaN: none)."""

    entries: np.ndarray
    exits: np.ndarray
    limit: np.ndarray | None = None
    stop: np.ndarray | None = None
    exit_limit: np.ndarray | None = None
    size: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class Simulation:
    """Raw outputs of one kernel call with ``len(risks)`` groups over ``n_symbols`` columns each."""

    value: np.ndarray          # groups x bars (C order: each group's equity one contiguous row)
    exposed: np.ndarray        # per group: bars in the market (from ``begin``)
    trades_int: np.ndarray     # (col, entry_idx, exit_idx, reason)
    trades_float: np.ndarray   # (size, entry_price, exit_price, entry_fee, exit_fee)
    n_symbols: int
    fills_int: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), dtype=np.int64))  # col, bar, side, reason
    fills_float: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))               # qty, price, fee

    def _group_records(self, group: int) -> tuple[np.ndarray, np.ndarray]:
        """Group ``group``'s trade records, the column as the symbol's position."""
        ti, tf = self.trades_int, self.trades_float
        if self.value.shape[0] == 1:    # one group: its columns are the symbols' positions
            return ti, tf
        sel = (ti[:, 0] // self.n_symbols) == group
        ti = ti[sel]   # a copy: its column becomes the symbol's position
        ti[:, 0] %= self.n_symbols
        return ti, tf[sel]

    def group_trades(self, group: int, md: MarketData) -> pd.DataFrame:
        """The trade list of group ``group``, in entry order."""
        return trade_table(*self._group_records(group), md, _REASON_NAMES)

    def group_trade_stats(self, group: int) -> TradeStats:
        """What the metrics read of group ``group``'s trade list (:func:`record_stats`), without building it."""
        return record_stats(*self._group_records(group))

    def group_fills(self, group: int, md: MarketData) -> pd.DataFrame:
        """Every fill of group ``group`` in time order (a buy's reason is ``signal``)."""
        fi, ff = self.fills_int, self.fills_float
        sel = (fi[:, 0] // self.n_symbols) == group
        fi, ff = fi[sel], ff[sel]
        symbols = np.asarray(md.symbols, dtype=object)
        return pd.DataFrame({
            "symbol": symbols[fi[:, 0] % self.n_symbols],
            "ts": md.index[fi[:, 1]],
            "side": np.where(fi[:, 2] == 0, "buy", "sell"),
            "quantity": ff[:, 0], "price": ff[:, 1], "fee": ff[:, 2],
            "reason": _REASON_NAMES[fi[:, 3]],
        }, columns=list(FILL_COLUMNS))


_NONE = np.zeros((0, 0))


def _stack(parts: list[np.ndarray | None], n: int) -> np.ndarray:
    """Bars x columns of the given blocks (NaN for a strategy without one), or 0 x 0 if none has one."""
    if all(p is None for p in parts):
        return _NONE
    width = next(p.shape[1] for p in parts if p is not None)
    return np.ascontiguousarray(np.concatenate(
        [np.full((n, width), np.nan) if p is None else np.asarray(p, dtype=np.float64) for p in parts], axis=1))


def simulate(md: MarketData, signals: Sequence[Signals], risks: Sequence[Risk], config: BacktestConfig, *,
             begin: int = 0, close_at_end: bool = False) -> Simulation:
    """Run ``len(risks)`` strategies side by side, each on all of ``md``'s symbols with its own cash.

    ``signals[k]`` holds strategy ``k``'s arrays (bars x symbols); in the kernel, column
    ``k * n_symbols + j`` is strategy ``k``, symbol ``j``.
    """
    n_sym = len(md.symbols)
    k = len(risks)
    n = len(md.index)
    sigs = [Signals(*s) for s in signals]
    if len(sigs) != k or any(s.entries.shape != (n, n_sym) or s.exits.shape != (n, n_sym) for s in sigs):
        raise ValidationError(f"need {k} signal sets of {n} x {n_sym} entries/exits")
    entries = np.concatenate([s.entries for s in sigs], axis=1) if k > 1 else sigs[0].entries
    exits = np.concatenate([s.exits for s in sigs], axis=1) if k > 1 else sigs[0].exits
    sizes = [entry_fractions(md, r, s.size) for r, s in zip(risks, sigs, strict=True)]
    atr = _stack([_atr(md, r) for r in risks], n)

    def per_col(values: list[float]) -> np.ndarray:
        return np.repeat(np.asarray(values, dtype=np.float64), n_sym)

    share = float(config.volume_share)
    args = (
        md.array("open"), md.array("high"), md.array("low"), md.array("close"),
        md.volume_array if share > 0 else _NONE, md.tradeable_array,
        np.ascontiguousarray(entries, dtype=np.bool_), np.ascontiguousarray(exits, dtype=np.bool_),
        _stack([s.limit for s in sigs], n), _stack([s.stop for s in sigs], n),
        _stack([s.exit_limit for s in sigs], n), _stack(sizes, n), atr,
        np.tile(np.arange(n_sym, dtype=np.int64), k), np.arange(0, (k + 1) * n_sym, n_sym, dtype=np.int64),
        per_col([r.position_fraction for r in risks]),
        per_col([r.position_krw if r.sizing == "fixed_krw" else 0.0 for r in risks]),
        per_col([r.stop_loss_pct / 100.0 for r in risks]),
        per_col([r.take_profit_pct / 100.0 for r in risks]),
        per_col([r.trailing_stop_pct / 100.0 for r in risks]),
        per_col([r.trailing_atr for r in risks]),
        np.repeat(np.asarray([r.max_bars for r in risks], dtype=np.int64), n_sym),
        np.asarray([r.max_positions for r in risks], dtype=np.int64),
        float(config.initial_capital), float(config.fee_rate), float(config.slippage), float(config.size_step),
        share, int(begin), bool(close_at_end),
    )
    value, exposed, t_int, t_float, n_trades, f_int, f_float, n_fills = simulate_nb(*args, 0)
    if n_fills > f_int.shape[0]:      # more partial fills than the first guess had room for
        value, exposed, t_int, t_float, n_trades, f_int, f_float, n_fills = simulate_nb(*args, int(n_fills))
    return Simulation(value, exposed, t_int[:n_trades], t_float[:n_trades], n_sym, f_int[:n_fills],
                      f_float[:n_fills])


def _atr(md: MarketData, risk: Risk) -> np.ndarray | None:
    """Each symbol's ATR on its own bars, carried over bars it did not trade (bars x symbols), when
    ``risk`` trails by ATR."""
    if risk.trailing_atr <= 0:
        return None
    from workbench.core.indicators import atr

    cols = []
    for s in md.symbols:
        own = md.own_frame(s)
        values = atr(own["high"], own["low"], own["close"], risk.atr_period)
        cols.append(values.reindex(md.index).ffill().to_numpy(dtype="float64"))
    return np.column_stack(cols)
