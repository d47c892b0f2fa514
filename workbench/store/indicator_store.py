"""Compute the indicator tables of stored candles and write them back (technical_indicators, and the
candles' own rsi/macd/bollinger/vwap columns)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from workbench.core.indicators import candle_columns_of, compute_indicator_table
from workbench.core.markets import TimeLike, normalize_symbol, normalize_timeframe, validate_range
from workbench.store.cache import FrameCache
from workbench.store.database import Database
from workbench.store.market_data import load_candles, stored_source_timeframe
from workbench.store.writer import WriteResult, write_frame

__all__ = ["IndicatorRun", "compute_and_store_indicators"]


@dataclass(frozen=True)
class IndicatorRun:
    table: pd.DataFrame
    indicators: WriteResult | None
    candle_columns: WriteResult | None


def _rows(frame: pd.DataFrame, symbol: str, timeframe: str) -> pd.DataFrame:
    out = frame.reset_index().rename(columns={"ts": "timestamp"})
    out.insert(0, "timeframe", timeframe)
    out.insert(0, "symbol", symbol)
    return out


def compute_and_store_indicators(
    db: Database,
    symbol: str,
    timeframe: str,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    *,
    store_rows: bool = True,
    cache: FrameCache | None = None,
) -> IndicatorRun:
    """Indicators of ``symbol``'s ``timeframe`` candles for ``[start, end)``.

    They are computed over the whole stored history up to ``end`` (moving averages need warm-up; OBV
    and VWAP accumulate), then cut to the range. With ``store_rows`` the rows are upserted into
    ``technical_indicators`` and, when the timeframe is stored as such (not bucketed), into the
    candles' indicator columns; each write is all-or-nothing.
    """
    sym, tf = normalize_symbol(symbol), normalize_timeframe(timeframe)
    s, e = validate_range(start, end)
    history = load_candles(db, sym, tf, None, e, cache=cache)
    table = compute_indicator_table(history)
    keep = (table.index >= s) & (table.index < e)
    table = table[keep]
    ind_result = cand_result = None
    if store_rows and len(table):
        ind_result = write_frame(db, "technical_indicators", _rows(table, sym, tf))
        if stored_source_timeframe(db, sym, tf, s, e) == tf:
            cand_result = write_frame(db, "candle_indicators", _rows(candle_columns_of(table), sym, tf), cache=cache)
    return IndicatorRun(table, ind_result, cand_result)
