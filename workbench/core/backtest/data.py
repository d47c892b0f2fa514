"""Market data for a backtest: validated OHLCV frames of several symbols on one shared UTC index."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from numba import njit

from workbench.core.markets import normalize_timeframe
from workbench.errors import ValidationError

__all__ = ["OHLCV", "MarketData", "prepare_data"]

#: the columns a backtest needs, in this order
OHLCV: tuple[str, ...] = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True, eq=False)
class MarketData:
    """OHLCV frames of several symbols on one shared index.

    A bar a symbol did not have is filled flat at its last close with zero volume and is not
    ``tradeable`` (no entries there). Bars before a symbol's first bar are not tradeable either.
    """

    frames: dict[str, pd.DataFrame] = field(repr=False)
    tradeable: pd.DataFrame = field(repr=False)   # bool, columns = symbols
    timeframe: str
    rows: int

    @property
    def symbols(self) -> list[str]:
        return list(self.frames)

    @property
    def index(self) -> pd.DatetimeIndex:
        return self.tradeable.index  # type: ignore[return-value]  # built on a DatetimeIndex (prepare_data)

    def panel(self, column: str) -> pd.DataFrame:
        """One column of every symbol (bars x symbols)."""
        return pd.DataFrame({s: f[column] for s, f in self.frames.items()}, index=self.index)

    def array(self, column: str) -> np.ndarray:
        """One column of every symbol as a C-contiguous, read-only float64 array (bars x symbols); of one
        symbol, a view of its frame's column (no copy)."""
        return self._arrays[column]

    @cached_property
    def _arrays(self) -> dict[str, np.ndarray]:
        out = {}
        for c in OHLCV[:4]:
            cols = [f[c].to_numpy(dtype="float64") for f in self.frames.values()]
            a = cols[0].reshape(-1, 1) if len(cols) == 1 else np.column_stack(cols)
            a = np.ascontiguousarray(a)
            a.flags.writeable = False    # one compiled signature of the kernels, views or not
            out[c] = a
        return out

    @cached_property
    def volume_array(self) -> np.ndarray:
        """Every symbol's volume (bars x symbols; 0 on a bar it did not trade)."""
        return np.ascontiguousarray(np.column_stack([f["volume"].to_numpy(dtype="float64")
                                                     for f in self.frames.values()]))

    @cached_property
    def tradeable_array(self) -> np.ndarray:
        return np.ascontiguousarray(self.tradeable.to_numpy(dtype=bool))

    def own_frame(self, symbol: str) -> pd.DataFrame:
        """``symbol``'s bars as given (without the flat-filled bars of other symbols' times)."""
        present = self.tradeable[symbol].to_numpy()
        frame = self.frames[symbol]
        return frame if present.all() else frame[present]

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 over the symbols' names, timestamps and OHLCV values as given (computed on first use)."""
        h = hashlib.sha256()
        for symbol in sorted(self.frames):
            own = self.own_frame(symbol)
            h.update(symbol.encode())
            h.update(np.ascontiguousarray(pd.DatetimeIndex(own.index).asi8).tobytes())
            h.update(np.ascontiguousarray(own[list(OHLCV)].to_numpy(dtype="float64")).tobytes())
        return h.hexdigest()


@njit(cache=True, nogil=True)
def _first_bad_bar(prices: np.ndarray) -> tuple[int, int]:  # pragma: no cover - compiled
    """(problem, bar) of the first bad bar: 1 missing/infinite/non-positive price, 2 high below
    open/low/close or low above them; (0, -1) when every bar is good. ``prices``: open, high, low, close."""
    for i in range(prices.shape[0]):
        o, h, lo, c = prices[i, 0], prices[i, 1], prices[i, 2], prices[i, 3]
        if not (o > 0.0 and h > 0.0 and lo > 0.0 and c > 0.0 and o < np.inf and h < np.inf and c < np.inf):
            return 1, i
        if h < o or h < lo or h < c or lo > o or lo > c:
            return 2, i
    return 0, -1


def _check_frame(symbol: str, df: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise ValidationError(f"data for {symbol}: expected a DataFrame, got {type(df).__name__}")
    missing = [c for c in OHLCV if c not in df.columns]
    if missing:
        raise ValidationError(f"data for {symbol}: missing column(s) {missing}")
    if not isinstance(df.index, pd.DatetimeIndex) or df.index.tz is None:
        raise ValidationError(f"data for {symbol}: index must be a timezone-aware DatetimeIndex (UTC)")
    if len(df) < 2:
        raise ValidationError(f"data for {symbol}: need at least 2 bars (got {len(df)})")
    if not df.index.is_monotonic_increasing:
        raise ValidationError(f"data for {symbol}: index is not sorted ascending")
    if df.index.has_duplicates:
        raise ValidationError(f"data for {symbol}: duplicate timestamps, e.g. "
                              f"{df.index[df.index.duplicated()][0]}")
    values = df[list(OHLCV)].to_numpy(dtype="float64")
    problem, bar = _first_bad_bar(values)
    if problem == 1:
        raise ValidationError(f"data for {symbol}: missing, infinite or non-positive prices at {df.index[bar]}")
    if problem == 2:
        raise ValidationError(f"data for {symbol}: high below open/low/close or low above them at "
                              f"{df.index[bar]}")
    index = df.index if str(df.index.tz) == "UTC" else df.index.tz_convert("UTC")
    return pd.DataFrame(values, index=index.rename("ts"), columns=list(OHLCV), copy=False)


def prepare_data(data: pd.DataFrame | Mapping[str, pd.DataFrame] | MarketData, *, timeframe: str,
                 symbol: str = "ASSET") -> MarketData:
    """Validate frames (OHLCV columns, UTC index, sorted, unique, finite positive coherent prices) and put
    them on one UTC index. ``symbol`` names a single frame."""
    if isinstance(data, MarketData):
        return data
    tf = normalize_timeframe(timeframe)
    raw = {symbol: data} if isinstance(data, pd.DataFrame) else dict(data)
    if not raw:
        raise ValidationError("data: no symbols given")
    frames = {s: _check_frame(s, df) for s, df in raw.items()}
    rows = sum(len(f) for f in frames.values())
    index = frames[next(iter(frames))].index
    for f in frames.values():
        if not f.index.equals(index):
            index = index.union(f.index)
    aligned: dict[str, pd.DataFrame] = {}
    tradeable = {}
    for s, f in frames.items():
        if f.index.equals(index):
            aligned[s], tradeable[s] = f, np.ones(len(index), dtype=bool)
            continue
        present = index.isin(f.index)
        g = f.reindex(index)
        close = g["close"].ffill().bfill()
        for col in ("open", "high", "low"):
            g[col] = g[col].fillna(close)
        g["close"] = close
        g["volume"] = g["volume"].fillna(0.0)
        aligned[s], tradeable[s] = g, present
    return MarketData(aligned, pd.DataFrame(tradeable, index=index), tf, rows)
