"""Bulk writes: Arrow -> temporary staging table (binary COPY via ADBC) -> one INSERT ... ON CONFLICT.

The whole write is one transaction: a failure leaves the target table as it was. Only rows whose
values differ are written (trades are never rewritten), so re-running an import adds no duplicates
and, for unchanged rows, writes nothing. A write that changed candles bumps their symbols'
``data_versions`` in the same transaction: cached frames are keyed by that version (writes by other
SQL clients are covered by the triggers of migration 0052, which skip the writer's transactions). Every write of
candles holds the advisory lock of each (symbol, timeframe) it writes (``candles_lock.sql``); a
write made with ``direct=True`` copies new candles straight into the table when it can
(:mod:`workbench.store.direct_write`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Final

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.errors import ImportDataError
from workbench.store.cache import FrameCache, candle_pattern
from workbench.store.database import Database
from workbench.store.direct_write import DirectCandles, DirectWriteRefused, lock_series, mark_maintained
from workbench.store.maintenance import after_commit, after_write
from workbench.store.queries import Q, query

__all__ = ["TABLE_COLUMNS", "VERSIONED", "DirectWriteRefused", "StagedWrite", "WriteResult", "to_arrow",
           "write_frame", "write_table"]

_F = pa.float64()
_TS = pa.timestamp("us", tz="UTC")
_S = pa.string()

#: target -> (arrow schema of the staged rows, upsert query name)
TABLE_COLUMNS: Final[dict[str, tuple[pa.Schema, Q]]] = {
    "candles": (pa.schema([("symbol", _S), ("timeframe", _S), ("timestamp", _TS), ("open_price", _F),
                           ("high_price", _F), ("low_price", _F), ("close_price", _F), ("volume", _F)]),
                Q.UPSERT_CANDLES),
    "candle_indicators": (pa.schema([("symbol", _S), ("timeframe", _S), ("timestamp", _TS), ("vwap", _F),
                                     ("rsi", _F), ("macd", _F), ("bollinger_upper", _F),
                                     ("bollinger_middle", _F), ("bollinger_lower", _F)]),
                          Q.UPSERT_CANDLE_INDICATORS),
    "technical_indicators": (pa.schema([("symbol", _S), ("timeframe", _S), ("timestamp", _TS)] + [
        (c, _F) for c in (
            "ma_5", "ma_10", "ma_20", "ma_50", "ma_100", "ma_200", "ema_8", "ema_13", "ema_21", "ema_50",
            "ema_200", "rsi_14", "stochastic_k", "stochastic_d", "macd_line", "macd_signal",
            "macd_histogram", "cci_20", "atr_14", "bollinger_upper", "bollinger_middle", "bollinger_lower",
            "keltner_upper", "keltner_middle", "keltner_lower", "volume_ma_20", "obv", "vwap")]),
        Q.UPSERT_TECHNICAL_INDICATORS),
    "tickers": (pa.schema([("symbol", _S), ("timestamp", _TS)] + [(c, _F) for c in (
        "opening_price", "closing_price", "high_price", "low_price", "volume", "value", "change_24h",
        "change_rate_24h", "bid_price", "ask_price", "spread")]), Q.UPSERT_TICKERS),
    "orderbooks": (pa.schema([("symbol", _S), ("timestamp", _TS), ("bids", _S), ("asks", _S),
                              ("bid_volume", _F), ("ask_volume", _F), ("spread", _F), ("mid_price", _F)]),
                   Q.UPSERT_ORDERBOOKS),
    "transactions": (pa.schema([("symbol", _S), ("timestamp", _TS), ("price", _F), ("quantity", _F),
                                ("value", _F), ("side", _S), ("bithumb_tx_id", _S)]),
                     Q.UPSERT_TRANSACTIONS),
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
    """What a write did: ``rows`` given, ``inserted`` new, ``updated`` changed; the rest were unchanged."""

    table: str
    rows: int
    inserted: int
    updated: int

    @property
    def unchanged(self) -> int:
        """Rows already stored with the same values (nothing was written for them)."""
        return self.rows - self.inserted - self.updated

    def __str__(self) -> str:
        if self.rows and not (self.inserted or self.updated):
            return f"{self.table}: {self.rows:,} rows, all unchanged: nothing written"
        return (f"{self.table}: {self.rows:,} rows ({self.inserted:,} new, {self.updated:,} updated, "
                f"{self.unchanged:,} unchanged)")


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


#: staged candles from which the stage is analyzed before the upsert (small stages: estimates suffice)
_ANALYZE_ROWS: Final = 10_000

#: tables whose writes bump ``data_versions`` (the cache keys of loaded frames depend on it)
VERSIONED: Final = {"candles": "candles", "candle_indicators": "candles"}


class StagedWrite:
    """One all-or-nothing write built up in parts: ``add`` stages Arrow rows (binary COPY into a
    temporary table), ``commit`` upserts them in the same transaction, bumps the data version of the
    symbols written (when any row changed) and commits. Leaving the ``with`` block without
    ``commit`` (or with an exception) rolls everything back.

    ``direct=True`` (candles; not on single-connection servers): rows of one (symbol, timeframe)
    whose range holds no stored candle are copied straight into ``candles`` (no staging, no
    upsert). The first part decides: if it does not qualify, the whole write is staged; if a later
    part does not qualify, ``add`` raises :class:`DirectWriteRefused` and the caller must roll back
    (leave the block) and write again with ``direct=False``.

    >>> with StagedWrite(db, "candles") as w:   # doctest: +SKIP
    ...     for part in parts:
    ...         w.add(part)
    ...     result = w.commit()
    """

    def __init__(self, db: Database, table: str, *, direct: bool = False) -> None:
        if table not in TABLE_COLUMNS:
            raise ImportDataError(f"unknown target table {table!r}; one of {sorted(TABLE_COLUMNS)}")
        self.db = db
        self.table = table
        self.rows = 0
        self._stack: contextlib.ExitStack | None = None
        self._cur: Any = None
        self._conn: Any = None
        self._result: WriteResult | None = None
        self._span: tuple[Any, Any] | None = None
        self._series: set[tuple[str, str]] = set()
        self._want_direct = direct and table == "candles" and not db.single_connection
        self._direct: DirectCandles | None = None
        self._staged = 0

    def __enter__(self) -> StagedWrite:
        stack = contextlib.ExitStack()
        self._conn = stack.enter_context(self.db.adbc())
        self._cur = stack.enter_context(self._conn.cursor())
        self._stack = stack
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stack is None:  # committed (and the connection already given back)
            return
        try:
            if self._conn is not None:  # not committed: undo what was staged
                self._conn.rollback()
        finally:
            self._stack.close()
            self._stack = None

    @property
    def direct(self) -> bool:
        """Were the rows copied straight into the table (no ``_wb_stage``)?"""
        return self._direct is not None and self._direct.rows > 0

    def add(self, frame: pd.DataFrame | pa.Table, extra: pa.Table | None = None) -> None:
        """Stage ``frame`` (cast to the table's schema); ``extra`` columns (e.g. source line numbers)
        are staged beside it and can be queried with :meth:`execute` before ``commit``."""
        data = to_arrow(self.table, frame)
        if data.num_rows == 0:
            return
        if self._want_direct and self._staged == 0:
            if self._direct is None:
                self._direct = DirectCandles(
                    self._cur, lambda name, rows, append=False: self.db.stage(self._cur, name, rows, append=append),
                    rollups=not self.db.has_timescaledb)
            try:
                self._direct.add(data)
            except DirectWriteRefused:
                if self._direct.rows:
                    raise
                self._want_direct = False   # nothing written directly: stage everything
            else:
                self.rows += data.num_rows
                return
        if extra is not None:
            for name in extra.column_names:
                data = data.append_column(name, extra.column(name))
        self.db.stage(self._cur, "_wb_stage", data, append=bool(self._staged))
        self.rows += data.num_rows
        self._staged += data.num_rows
        if "timeframe" in data.column_names:
            pairs = data.group_by(["symbol", "timeframe"]).aggregate([])
            self._series.update(zip(pairs.column("symbol").to_pylist(), pairs.column("timeframe").to_pylist(),
                                    strict=True))
        if "timeframe" in data.column_names and "timestamp" in data.column_names:
            minutes = data.filter(pc.equal(data.column("timeframe"), "1m")).column("timestamp")
            if len(minutes):
                lo, hi = pc.min(minutes).as_py(), pc.max(minutes).as_py()
                self._span = (lo, hi) if self._span is None else (min(self._span[0], lo), max(self._span[1], hi))

    def execute(self, sql: str) -> pa.Table:
        """Run a query over the staged rows (``_wb_stage``) inside the write's transaction."""
        self._cur.execute(sql)
        return self._cur.fetch_arrow_table()

    def run(self, sql: str) -> None:
        """Run a statement without a result (e.g. ``SAVEPOINT``) inside the write's transaction."""
        self._cur.execute(sql)

    def upsert(self) -> WriteResult:
        """Upsert the staged rows (only those whose values differ) and bump the data versions of the
        symbols written; not committed yet. Raises what the database raises (e.g. a key staged twice)."""
        if self._result is not None:
            return self._result
        if self.rows == 0:
            self._result = WriteResult(self.table, 0, 0, 0)
            return self._result
        if self.direct:
            self._result = self._finish_direct()
            return self._result
        if self.table in VERSIONED:   # versions and rollups maintained here, not by the triggers
            mark_maintained(self._cur)
        if self.table == "candles":   # every writer of candles holds its series' locks (sorted: no deadlock)
            for symbol, timeframe in sorted(self._series):
                lock_series(self._cur, symbol, timeframe)
            if self._staged >= _ANALYZE_ROWS:   # so the planner can choose how to skip the unchanged rows
                self._cur.execute("ANALYZE _wb_stage")
        _, upsert = TABLE_COLUMNS[self.table]
        self._cur.execute(query(upsert).sql)
        counts = self._cur.fetchone()
        inserted, updated = int(counts[0]), int(counts[1])
        if (inserted or updated) and self.table in VERSIONED:
            self._cur.execute(query(Q.DATA_VERSION_BUMP).literal({"table_name": VERSIONED[self.table]}))
        after_write(self._cur, self.table, rollups=bool(inserted or updated))
        self._result = WriteResult(self.table, self.rows, inserted, updated)
        return self._result

    def _finish_direct(self) -> WriteResult:
        """The direct path's maintenance: ``_wb_stage`` holds the edges of what was written."""
        assert self._direct is not None
        edges = self._direct.edges()
        self.db.stage(self._cur, "_wb_stage", edges)
        self._staged = edges.num_rows
        self._cur.execute(query(Q.DATA_VERSION_BUMP).literal({"table_name": "candles"}))
        after_write(self._cur, self.table, rollups=False)
        self._direct.finish_rollups()
        self._span = self._direct.span()
        return WriteResult(self.table, self.rows, self._direct.rows, 0)

    def commit(self) -> WriteResult:
        """:meth:`upsert` (if not done yet) and commit the transaction."""
        result = self.upsert()
        if self._staged:
            self._cur.execute("DROP TABLE _wb_stage")
            self._conn.commit()
        else:
            self._conn.rollback()
        self._conn = None
        if self._stack is not None:  # give the connection back before any other (single-connection servers)
            self._stack.close()
            self._stack = None
        if self._span is not None and (result.inserted or result.updated):
            lo, hi = self._span  # what after_commit needs of the rows: the span of the 1m timestamps
            after_commit(self.db, self.table, pa.table({"timeframe": ["1m", "1m"], "timestamp": pa.array(
                [lo, hi], pa.timestamp("us", tz="UTC"))}))
        return result


def write_table(db: Database, table: str, frame: pd.DataFrame | pa.Table) -> WriteResult:
    """Upsert ``frame`` into ``table`` in one transaction; nothing is written if anything fails.

    Rows whose stored values are already the same are not rewritten (``WriteResult.unchanged``).
    """
    data = to_arrow(table, frame)
    if data.num_rows == 0:
        return WriteResult(table, 0, 0, 0)
    with StagedWrite(db, table) as w:
        w.add(data)
        return w.commit()


def write_frame(db: Database, table: str, frame: pd.DataFrame, *, cache: FrameCache | None = None) -> WriteResult:
    """Upsert ``frame`` into ``table`` (all or nothing) and drop the cached candle frames it makes stale."""
    result = write_table(db, table, frame)
    if result.rows and table in ("candles", "candle_indicators") and cache is not None:
        for symbol in pd.unique(frame["symbol"]):
            cache.invalidate(candle_pattern(str(symbol)))
    return result
