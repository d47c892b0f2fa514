"""Candles copied straight into ``candles`` (binary COPY) when the rows' range holds no stored candle.

The common import -- new history of one (symbol, timeframe) -- needs no staging table and no
``INSERT ... ON CONFLICT``: under the transaction-level advisory lock of the series (taken by every
write of candles, ``candles_lock.sql``), each chunk's range is checked to hold no stored candle (the
chunks already written in this transaction included) and the chunk is copied into ``candles``. The
unique index still guards the key. A chunk that does not qualify (another series, a key twice in
the chunk, a range that holds stored candles) is refused with :class:`DirectWriteRefused`; the
writer then stages (before anything was written directly) or gives up (after).

Rollups (plain PostgreSQL) are computed on the client from the chunks (:mod:`.rollup_rows`) and
written once (new buckets copied, stored ones upserted); the buckets at the ends of each run of
written minutes are recomputed on the server, where they may also hold minutes stored before.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc

from workbench.markets import TIMEFRAMES
from workbench.store.queries import query
from workbench.store.rollup_rows import ROLLUP_TIMEFRAMES, RollupRows

__all__ = ["DirectCandles", "DirectWriteRefused"]

_ONE_US: Final = dt.timedelta(microseconds=1)
_TS: Final = pa.timestamp("us", tz="UTC")


class DirectWriteRefused(Exception):  # noqa: N818 (a signal to the writer, not an error for users)
    """A chunk cannot be copied straight into ``candles``; the reason is the message."""


class DirectCandles:
    """The direct path of one write, on the write's ADBC ``cursor`` (inside its transaction)."""

    def __init__(self, cursor: Any, *, rollups: bool) -> None:
        self._cur = cursor
        self._rollups_wanted = rollups
        self.series: tuple[str, str] | None = None
        self.rows = 0
        self._runs: list[list[dt.datetime]] = []   # [first, last] of each run of written minutes
        self._rollups: RollupRows | None = None

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
            self._lock(series)
            self.series = series
        elif series != self.series:
            raise DirectWriteRefused(f"{series} after {self.series}")
        stamps = data.column("timestamp")
        if pc.count_distinct(stamps).as_py() != data.num_rows:
            raise DirectWriteRefused("a timestamp twice in the chunk")
        first, last = pc.min(stamps).as_py(), pc.max(stamps).as_py()
        # a chunk that follows the last run extends it when nothing is stored in between (the run's
        # own rows are not "stored before"), so a sorted file is one run with two edges
        joins = bool(self._runs) and first > self._runs[-1][1] and not self._taken(series, self._runs[-1][1], last)
        if not joins and self._taken(series, first - _ONE_US, last):
            raise DirectWriteRefused("the range holds stored candles")
        self._cur.adbc_ingest("candles", data, mode="append")
        if joins:
            self._runs[-1][1] = last
        else:
            self._runs.append([first, last])
        self.rows += data.num_rows
        if self._rollups_wanted and series[1] == "1m":
            if self._rollups is None:
                self._rollups = RollupRows(series[0])
            self._rollups.add(data)

    def _lock(self, series: tuple[str, str]) -> None:
        self._cur.execute(query("candles_lock").literal({"symbol": series[0], "timeframe": series[1]}))
        self._cur.fetchall()

    def _taken(self, series: tuple[str, str], after: dt.datetime, last: dt.datetime) -> bool:
        self._cur.execute(query("candles_range_taken").literal(
            {"symbol": series[0], "timeframe": series[1], "after": after, "last": last}))
        row = self._cur.fetchone()
        return bool(row[0])

    def edges(self) -> pa.Table:
        """The first and last minute of each run written, as rows of ``_wb_stage`` (symbol,
        timeframe, timestamp): what the data-version bump, the archive guard and the rollup edges read."""
        assert self.series is not None
        stamps = [t for run in self._runs for t in run]
        return pa.table({"symbol": pa.array([self.series[0]] * len(stamps), pa.string()),
                         "timeframe": pa.array([self.series[1]] * len(stamps), pa.string()),
                         "timestamp": pa.array(stamps, _TS)})

    def span(self) -> tuple[dt.datetime, dt.datetime] | None:
        """(first, last) minute written, for 1m candles; None otherwise."""
        if self.series is None or self.series[1] != "1m" or not self._runs:
            return None
        return min(r[0] for r in self._runs), max(r[1] for r in self._runs)

    def write_rollups(self, stage: Any) -> None:
        """Write the client's rollup buckets -- new ones copied straight into ``candle_rollups``,
        stored ones upserted (staged with ``stage(name, table)``) -- then recompute the buckets that
        hold an edge minute, each timeframe from the one below it. Needs ``_wb_stage`` (:meth:`edges`).

        Rollups of the symbol are written only under its 1m series lock, held here."""
        if self._rollups is None:
            return
        buckets = self._rollups.table()
        stored = []
        for tf in ROLLUP_TIMEFRAMES:
            rows = buckets.filter(pc.equal(buckets.column("timeframe"), tf))
            if rows.num_rows == 0:
                continue
            self._cur.execute(query("rollups_existing").literal({
                "symbol": self._rollups.symbol, "timeframe": tf, "first": pc.min(rows.column("ts")).as_py(),
                "last": pc.max(rows.column("ts")).as_py()}))
            existing = self._cur.fetch_arrow_table().column(0).cast(_TS)
            old = pc.is_in(rows.column("ts"), value_set=existing)
            new = rows.filter(pc.invert(old))
            if new.num_rows:
                self._cur.adbc_ingest("candle_rollups", new, mode="append")
            if len(existing):
                stored.append(rows.filter(old))
        if stored:
            stage("_wb_rollup_stage", pa.concat_tables(stored))
            self._cur.execute(query("rollups_upsert_staged").sql)
            self._cur.execute("DROP TABLE _wb_rollup_stage")
        source = "1m"
        for tf in ROLLUP_TIMEFRAMES:
            step = f"{TIMEFRAMES[tf]} seconds"
            if source == "1m":
                self._cur.execute(query("rollups_edges_minutes").literal({"timeframe": tf, "step": step}))
            else:
                self._cur.execute(query("rollups_edges_rollups").literal(
                    {"timeframe": tf, "step": step, "source": source}))
            source = tf
