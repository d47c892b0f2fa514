"""CSV files into the database (validated whole, written in one transaction)."""

from __future__ import annotations

from pathlib import Path

from workbench.ingest.csv_import import CsvKind, read_csv_for_table
from workbench.store.cache import FrameCache, NullCache
from workbench.store.database import Database
from workbench.store.writer import WriteResult, write_frame

__all__ = ["import_csv"]


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
    return write_frame(db, kind, frame, cache=cache or NullCache())
