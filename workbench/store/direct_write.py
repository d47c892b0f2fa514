"""Candles copied straight into ``candles`` (binary COPY) when the rows' range holds no stored candle.

The common import -- new history of one (symbol, timeframe) -- needs no staging table and no
``INSERT ... ON CONFLICT``: under the transaction-level advisory lock of the series (taken by every
write of candles, ``candles_lock.sql``), each chunk's time range is checked to hold no stored candle
and to overlap no earlier chunk's (so a sorted file, either way, qualifies), and the chunk is copied
into ``candles``. The unique index still guards the key. A chunk that does not qualify (another
series, a key twice in the chunk, a range over stored candles or over an earlier chunk) is refused
with :class:`DirectWriteRefused`; the writer then stages (before anything was written directly) or
gives up (after).

Rollups (plain PostgreSQL): each chunk's interior buckets are computed on the client
(:func:`.rollup_rows.interior_buckets`) and written with the chunk (copied when new, upserted when
stored); the buckets holding a chunk's first or last minute -- the only ones that can hold minutes
of other chunks or minutes stored before -- are recomputed on the server at the end.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Final, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from workbench.core.markets import TIMEFRAMES
from workbench.store.queries import Q, query
from workbench.store.rollup_rows import ROLLUP_TIMEFRAMES, interior_buckets

if TYPE_CHECKING:
    from adbc_driver_manager.dbapi import Cursor as AdbcCursor

__all__ = ["DirectCandles", "DirectWriteRefused", "StageTable", "lock_series", "mark_maintained"]


class StageTable(Protocol):
    """``stage(name, rows, append=False)``: a temporary table ``name`` on the write's connection filled
    with ``rows`` (``append``: added to the table an earlier call made); :meth:`Database.stage`."""

    def __call__(self, name: str, rows: pa.Table, append: bool = False) -> None: ...

_TS: Final = pa.timestamp("us", tz="UTC")


def lock_series(cursor: AdbcCursor, symbol: str, timeframe: str) -> None:
    """Take the transaction-level advisory lock of candle series (``symbol``, ``timeframe``), which
    every write of candles holds (``candles_lock.sql``)."""
    cursor.execute(query(Q.CANDLES_LOCK).literal({"symbol": symbol, "timeframe": timeframe}))
    cursor.fetchall()


def mark_maintained(cursor: AdbcCursor) -> None:
    """Mark the write's transaction as maintaining data versions and rollups itself, before it
    changes candles: the triggers that do it for other SQL clients skip it (migration 0052)."""
    cursor.execute(query(Q.CANDLES_MAINTAINED).sql)
    cursor.fetchall()


class DirectWriteRefused(Exception):  # noqa: N818 (a signal to the writer, not an error for users)
    """A chunk cannot be copied straight into ``candles``; the reason is the message."""


class DirectCandles:
    """The direct path of one write, on the write's ADBC ``cursor`` (inside its transaction);
    ``stage(name, table)`` creates a temporary table of that name filled with ``table``."""

    def __init__(self, cursor: AdbcCursor, stage: StageTable, *, rollups: bool) -> None:
        self._cur = cursor
        self._stage = stage
        self._rollups = rollups
        self.series: tuple[str, str] | None = None
        self.rows = 0
        self._chunks: list[tuple[dt.datetime, dt.datetime]] = []   # (first, last) of each chunk written
        self._rollup_stage = False

    def add(self, data: pa.Table) -> None:
        """Copy ``data`` (the writer's candle schema) into ``candles``, or raise DirectWriteRefused
        (nothing written for this chunk)."""
        if data.num_rows == 0:
            return
        symbols, frames = pc.unique(data.column("symbol")), pc.unique(data.column("timeframe"))
        if len(symbols) != 1 or len(frames) != 1:
            raise DirectWriteRefused("more than one symbol or timeframe")
        series = (str(symbols[0].as_py()), str(frames[0].as_py()))
        if self.series is None:
            lock_series(self._cur, *series)
            mark_maintained(self._cur)
            self.series = series
        elif series != self.series:
            raise DirectWriteRefused(f"{series} after {self.series}")
        stamps = data.column("timestamp")
        if pc.count_distinct(stamps).as_py() != data.num_rows:
            raise DirectWriteRefused("a timestamp twice in the chunk")
        first, last = pc.min(stamps).as_py(), pc.max(stamps).as_py()
        if self._chunks:
            lo, hi = min(c[0] for c in self._chunks), max(c[1] for c in self._chunks)
            if not (last < lo or first > hi):
                raise DirectWriteRefused("the chunk's range overlaps an earlier chunk's")
        if self._taken(series, first, last):
            raise DirectWriteRefused("the range holds stored candles")
        self._cur.adbc_ingest("candles", data, mode="append")
        self._chunks.append((first, last))
        self.rows += data.num_rows
        if self._rollups and series[1] == "1m":
            self._write_buckets(interior_buckets(series[0], data))

    def _taken(self, series: tuple[str, str], first: dt.datetime, last: dt.datetime) -> bool:
        self._cur.execute(query(Q.CANDLES_RANGE_TAKEN).literal(
            {"symbol": series[0], "timeframe": series[1], "first": first, "last": last}))
        row = self._cur.fetchone()
        assert row is not None   # an aggregate: always one row
        return bool(row[0])

    def _write_buckets(self, buckets: pa.Table) -> None:
        """New buckets copied into ``candle_rollups``; stored ones (e.g. kept after their minutes
        were archived and dropped) upserted. Rollups of a symbol are written only under its 1m
        series lock, held here."""
        if buckets.num_rows == 0:
            return
        stamps = buckets.column("ts")
        self._cur.execute(query(Q.ROLLUPS_EXISTING).literal({
            "symbol": buckets.column("symbol")[0].as_py(), "first": pc.min(stamps).as_py(),
            "last": pc.max(stamps).as_py()}))
        existing = self._cur.fetch_arrow_table()
        if existing.num_rows == 0:
            self._cur.adbc_ingest("candle_rollups", buckets, mode="append")
            return
        keys = pc.binary_join_element_wise(buckets.column("timeframe"), pc.cast(stamps, pa.string()), "|")
        known = pc.binary_join_element_wise(existing.column(0).cast(pa.string()),
                                            pc.cast(existing.column(1).cast(_TS), pa.string()), "|")
        old = pc.is_in(keys, value_set=known)
        new = buckets.filter(pc.invert(old))
        if new.num_rows:
            self._cur.adbc_ingest("candle_rollups", new, mode="append")
        if self._rollup_stage:
            self._cur.execute("TRUNCATE _wb_rollup_stage")
        self._stage("_wb_rollup_stage", buckets.filter(old), append=self._rollup_stage)
        self._rollup_stage = True
        self._cur.execute(query(Q.ROLLUPS_UPSERT_STAGED).sql)

    def edges(self) -> pa.Table:
        """The first and last minute of each chunk written, as rows of ``_wb_stage`` (symbol,
        timeframe, timestamp): what the data-version bump, the archive guard and the rollup edges read."""
        assert self.series is not None
        stamps = [t for chunk in self._chunks for t in chunk]
        return pa.table({"symbol": pa.array([self.series[0]] * len(stamps), pa.string()),
                         "timeframe": pa.array([self.series[1]] * len(stamps), pa.string()),
                         "timestamp": pa.array(stamps, _TS)})

    def span(self) -> tuple[dt.datetime, dt.datetime] | None:
        """(first, last) minute written, for 1m candles; None otherwise."""
        if self.series is None or self.series[1] != "1m" or not self._chunks:
            return None
        return min(c[0] for c in self._chunks), max(c[1] for c in self._chunks)

    def finish_rollups(self) -> None:
        """Recompute the rollup buckets that hold a chunk's first or last minute, each timeframe
        from the one below it. Needs ``_wb_stage`` (:meth:`edges`)."""
        if self._rollup_stage:
            self._cur.execute("DROP TABLE _wb_rollup_stage")
            self._rollup_stage = False
        if not self._rollups or self.series is None or self.series[1] != "1m":
            return
        source = "1m"
        for tf in ROLLUP_TIMEFRAMES:
            step = f"{TIMEFRAMES[tf]} seconds"
            if source == "1m":
                self._cur.execute(query(Q.ROLLUPS_EDGES_MINUTES).literal({"timeframe": tf, "step": step}))
            else:
                self._cur.execute(query(Q.ROLLUPS_EDGES_ROLLUPS).literal(
                    {"timeframe": tf, "step": step, "source": source}))
            source = tf

