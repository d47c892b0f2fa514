"""Bulk writes: Arrow -> temporary staging table (binary COPY via ADBC) -> one INSERT ... ON CONFLICT.

The whole write is one transaction: a failure leaves the target table as it was. Re-writing the
same rows updates them in place (or skips them, for trades), so re-running an import adds no
duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import pandas as pd
import pyarrow as pa

from workbench.errors import ImportDataError
from workbench.store.cache import FrameCache, candle_pattern
from workbench.store.database import Database
from workbench.store.maintenance import after_commit, after_write
from workbench.store.queries import query

__all__ = ["TABLE_COLUMNS", "WriteResult", "write_frame", "write_table"]

_F = pa.float64()
_TS = pa.timestamp("us", tz="UTC")
_S = pa.string()

#: target -> (arrow schema of the staged rows, upsert query name)
TABLE_COLUMNS: Final[dict[str, tuple[pa.Schema, str]]] = {
    "candles": (pa.schema([("symbol", _S), ("timeframe", _S), ("timestamp", _TS), ("open_price", _F),
                           ("high_price", _F), ("low_price", _F), ("close_price", _F), ("volume", _F)]),
                "upsert_candles"),
    "candle_indicators": (pa.schema([("symbol", _S), ("timeframe", _S), ("timestamp", _TS), ("vwap", _F),
                                     ("rsi", _F), ("macd", _F), ("bollinger_upper", _F),
                                     ("bollinger_middle", _F), ("bollinger_lower", _F)]),
                          "upsert_candle_indicators"),
    "technical_indicators": (pa.schema([("symbol", _S), ("timeframe", _S), ("timestamp", _TS)] + [
        (c, _F) for c in (
            "ma_5", "ma_10", "ma_20", "ma_50", "ma_100", "ma_200", "ema_8", "ema_13", "ema_21", "ema_50",
            "ema_200", "rsi_14", "stochastic_k", "stochastic_d", "macd_line", "macd_signal",
            "macd_histogram", "cci_20", "atr_14", "bollinger_upper", "bollinger_middle", "bollinger_lower",
            "keltner_upper", "keltner_middle", "keltner_lower", "volume_ma_20", "obv", "vwap")]),
        "upsert_technical_indicators"),
    "tickers": (pa.schema([("symbol", _S), ("timestamp", _TS)] + [(c, _F) for c in (
        "opening_price", "closing_price", "high_price", "low_price", "volume", "value", "change_24h",
        "change_rate_24h", "bid_price", "ask_price", "spread")]), "upsert_tickers"),
    "orderbooks": (pa.schema([("symbol", _S), ("timestamp", _TS), ("bids", _S), ("asks", _S),
                              ("bid_volume", _F), ("ask_volume", _F), ("spread", _F), ("mid_price", _F)]),
                   "upsert_orderbooks"),
    "transactions": (pa.schema([("symbol", _S), ("timestamp", _TS), ("price", _F), ("quantity", _F),
                                ("value", _F), ("side", _S), ("bithumb_tx_id", _S)]),
                     "upsert_transactions"),
}

_NOT_NULL: Final[dict[str, tuple[str, ...]]] = {
    "candles": ("symbol", "timeframe", "timestamp", "open_price", "high_price", "low_price", "close_price",
                "volume"),
    "candle_indicators": ("symbol", "timeframe", "timestamp"),
    "technical_indicators": ("symbol", "timeframe", "timestamp"),
    "tickers": ("symbol", "timestamp", "opening_price", "closing_price", "high_price", "low_price", "volume",
                "value", "change_24h", "change_rate_24h"),
    "orderbooks": ("symbol", "timestamp", "bids", "asks"),
    "transactions": ("symbol", "timestamp", "price", "quantity", "value", "side", "bithumb_tx_id"),
}


@dataclass(frozen=True, slots=True)
class WriteResult:
    table: str
    rows: int
    inserted: int
    updated: int

    def __str__(self) -> str:
        return f"{self.table}: {self.rows} rows ({self.inserted} new, {self.updated} updated/skipped)"


def to_arrow(table: str, frame: pd.DataFrame | pa.Table) -> pa.Table:
    """Cast ``frame`` to the staging schema of ``table``; raise ImportDataError naming what is wrong."""
    if table not in TABLE_COLUMNS:
        raise ImportDataError(f"unknown target table {table!r}; one of {sorted(TABLE_COLUMNS)}")
    schema, _ = TABLE_COLUMNS[table]
    if isinstance(frame, pd.DataFrame):
        cols = list(frame.columns)
        missing = [c for c in schema.names if c not in cols]
        if missing:
            raise ImportDataError(f"{table}: missing column(s) {missing}; got {cols}")
        frame = frame.loc[:, list(schema.names)]
        if "timestamp" in frame and not isinstance(frame["timestamp"].dtype, pd.DatetimeTZDtype):
            raise ImportDataError(f"{table}: column 'timestamp' must be timezone-aware (UTC), "
                                  f"got dtype {frame['timestamp'].dtype}")
        try:
            data = pa.Table.from_pandas(frame, preserve_index=False)
        except (pa.ArrowException, ValueError, TypeError) as err:
            raise ImportDataError(f"{table}: cannot convert rows: {err}") from err
    else:
        missing = [c for c in schema.names if c not in frame.column_names]
        if missing:
            raise ImportDataError(f"{table}: missing column(s) {missing}; got {frame.column_names}")
        data = frame.select(list(schema.names))
    try:
        data = data.cast(schema)
    except (pa.ArrowException, ValueError) as err:
        raise ImportDataError(f"{table}: column types do not fit {schema}: {err}") from err
    for name in _NOT_NULL[table]:
        nulls = data.column(name).null_count
        if nulls:
            raise ImportDataError(f"{table}: column {name!r} has {nulls} empty value(s); it is required")
    return data


def write_table(db: Database, table: str, frame: pd.DataFrame | pa.Table) -> WriteResult:
    """Upsert ``frame`` into ``table`` in one transaction; nothing is written if anything fails."""
    data = to_arrow(table, frame)
    if data.num_rows == 0:
        return WriteResult(table, 0, 0, 0)
    _, upsert = TABLE_COLUMNS[table]
    with db.adbc() as conn, conn.cursor() as cur:
        db.stage(cur, "_wb_stage", data)
        cur.execute(query(upsert).sql)
        flags = cur.fetch_arrow_table().column(0).to_pylist()
        after_write(cur, table)
        cur.execute("DROP TABLE _wb_stage")
        conn.commit()
    after_commit(db, table, data)
    inserted = sum(1 for f in flags if f)
    return WriteResult(table, data.num_rows, inserted, data.num_rows - inserted)


def write_frame(db: Database, table: str, frame: pd.DataFrame, *, cache: FrameCache | None = None) -> WriteResult:
    """Upsert ``frame`` into ``table`` (all or nothing) and drop the cached candle frames it makes stale."""
    result = write_table(db, table, frame)
    if result.rows and table in ("candles", "candle_indicators") and cache is not None:
        for symbol in pd.unique(frame["symbol"]):
            cache.invalidate(candle_pattern(str(symbol)))
    return result
