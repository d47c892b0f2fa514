"""What every bulk write does besides its upsert (called by ``workbench.store.writer``).

Inside the write's transaction (:func:`after_write`, after the upsert from ``_wb_stage``):

* archive guard: rows older than the table's archive watermark lower it, so retention cannot drop
  them before the next ``workbench archive`` (see :mod:`workbench.store.archive`);
* rollups (plain PostgreSQL): ``candle_rollups`` buckets touched by staged 1m candles are recomputed.

After the commit (:func:`after_commit`): on TimescaleDB, the continuous aggregates are refreshed over
the written range when it lies below their materialization (real-time aggregation covers the rest).

Before a load reads the rollups (:func:`refresh_stale_rollups`, TimescaleDB): the range of 1m candles
that other SQL clients changed (recorded by the triggers of migration 0052) is refreshed first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.core.markets import TIMEFRAMES
from workbench.store.archive import guard_write_sql
from workbench.store.database import Database
from workbench.store.queries import Q, query
from workbench.store.rollup_rows import ROLLUP_TIMEFRAMES

if TYPE_CHECKING:
    from adbc_driver_manager.dbapi import Cursor as AdbcCursor

__all__ = ["ROLLUP_TIMEFRAMES", "after_commit", "after_write", "refresh_rollups", "refresh_stale_rollups"]

_ORIGIN: Final = pd.Timestamp("2000-01-03", tz="UTC")


def after_write(cursor: AdbcCursor, table: str, *, rollups: bool = True) -> None:
    """Post-upsert maintenance for writer target ``table`` on ``cursor`` (an ADBC cursor whose
    connection holds the staged rows in ``_wb_stage``, inside the write's transaction); ``rollups``
    False when no row changed (or the writer maintains them itself)."""
    guard = guard_write_sql(table)
    if guard is not None:
        cursor.execute(guard)
    if table == "candles" and rollups:
        cursor.execute(query(Q.ROLLUPS_MAINTAIN).sql)
        cursor.fetchall()


def refresh_rollups(db: Database, start: pd.Timestamp, end: pd.Timestamp) -> None:
    """TimescaleDB: materialize every rollup aggregate over whole buckets covering ``[start, end)``."""
    stmt = query(Q.TSDB_REFRESH_ROLLUP)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for tf in ROLLUP_TIMEFRAMES:
            step = pd.Timedelta(seconds=TIMEFRAMES[tf])
            s = _ORIGIN + ((start - _ORIGIN) // step) * step
            e = _ORIGIN + -((_ORIGIN - end) // step) * step
            conn.execute(stmt.text, {"view": f"candle_rollup_{tf}", "start": s.to_pydatetime(),
                                     "end": (e + step).to_pydatetime()})


def after_commit(db: Database, table: str, data: pa.Table) -> None:
    """Post-commit maintenance of a write of ``data`` into writer target ``table``."""
    if table != "candles" or not db.has_timescaledb:
        return
    minutes = data.filter(pc.equal(data.column("timeframe"), "1m")).column("timestamp")
    if len(minutes) == 0:
        return
    start = pd.Timestamp(pc.min(minutes).as_py())
    end = pd.Timestamp(pc.max(minutes).as_py()) + pd.Timedelta(minutes=1)
    refresh_rollups(db, start, end)


def refresh_stale_rollups(db: Database, symbol: str) -> bool:
    """TimescaleDB: refresh the rollup aggregates over the 1m candles of ``symbol`` that other SQL
    clients changed (``candle_rollup_stale``, migration 0052); return whether there were any.
    One primary-key lookup when there are none."""
    with db.begin() as conn:
        row = conn.execute(query(Q.ROLLUPS_STALE_GET).text, {"symbol": symbol}).one_or_none()
    if row is None:
        return False
    refresh_rollups(db, pd.Timestamp(row.first_ts), pd.Timestamp(row.last_ts) + pd.Timedelta(minutes=1))
    with db.begin() as conn:
        conn.execute(query(Q.ROLLUPS_STALE_DONE).text, {"symbol": symbol, "generation": row.generation})
    return True
