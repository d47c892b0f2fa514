"""Write ingested frames and keep the cache honest (stale candle frames are dropped)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from workbench.cache import FrameCache, NullCache
from workbench.db.engine import Database
from workbench.db.writer import WriteResult, write_table
from workbench.ingest.csv_import import CsvKind, read_csv_for_table

__all__ = ["import_csv", "store"]


def store(db: Database, table: str, frame: pd.DataFrame, *, cache: FrameCache | None = None) -> WriteResult:
    """Upsert ``frame`` into ``table`` (all or nothing) and invalidate cached candle frames."""
    result = write_table(db, table, frame)
    if result.rows and table in ("candles", "candle_indicators") and cache is not None:
        for symbol in pd.unique(frame["symbol"]):
            cache.invalidate(f"candle:{symbol}:*")
    return result


def import_csv(
    db: Database,
    path: str | Path,
    kind: CsvKind = "candles",
    *,
    symbol: str | None = None,
    timeframe: str | None = None,
    tz: str = "UTC",
    cache: FrameCache | None = None,
) -> WriteResult:
    """Validate the whole CSV file, then write it in one transaction (see ``read_csv_for_table``)."""
    frame = read_csv_for_table(path, kind, symbol=symbol, timeframe=timeframe, tz=tz)
    return store(db, kind, frame, cache=cache or NullCache())
