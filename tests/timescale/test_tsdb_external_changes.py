"""Changes to ``candles`` made by other SQL clients on TimescaleDB (migration 0052): row-level
triggers collect the keys, the data version moves in the changing transaction, and the loader
refreshes the continuous aggregates over the changed range before it reads them.

Minute ``i`` (from 2025-03-03 00:00 UTC) has open ``100 + i``, high ``101 + i``, low ``99 + i``,
close ``100.5 + i`` and volume 1: the expected buckets below are worked out by hand from that.
Every test first materializes the aggregates, so the changes lie below their watermark (where
real-time aggregation does not look).
"""

from __future__ import annotations

import pandas as pd
import psycopg
import pytest

from workbench.errors import DataNotFoundError
from workbench.store.database import Database
from workbench.store.market_data import load_candles
from workbench.store.versions import data_version
from workbench.store.writer import write_table

SYMBOL = "KRW-EXT"
T0 = pd.Timestamp("2025-03-03 00:00", tz="UTC")
ROLLUPS = ("5m", "15m", "1h", "4h", "1d")


def _minutes(first: int, count: int) -> pd.DataFrame:
    i = pd.RangeIndex(first, first + count).to_numpy().astype(float)
    return pd.DataFrame({"symbol": SYMBOL, "timeframe": "1m", "timestamp": T0 + pd.to_timedelta(i, unit="min"),
                         "open_price": 100 + i, "high_price": 101 + i, "low_price": 99 + i,
                         "close_price": 100.5 + i, "volume": 1.0})


def _sql(db: Database, statement: str) -> None:
    """Another SQL client (the server serves one connection at a time: opened, used, closed)."""
    with psycopg.connect(db.url, autocommit=True) as conn:
        conn.execute(statement)


def _materialize(db: Database) -> None:
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for tf in ROLLUPS:
            conn.exec_driver_sql(f"CALL refresh_continuous_aggregate('candle_rollup_{tf}', NULL, NULL)")


def _stale(db: Database) -> list[tuple[str, str, str]]:
    with db.begin() as conn:
        rows = conn.exec_driver_sql("SELECT symbol, first_ts, last_ts FROM candle_rollup_stale ORDER BY 1").all()
    return [(str(s), pd.Timestamp(a).isoformat(), pd.Timestamp(b).isoformat()) for s, a, b in rows]


def _row(frame: pd.DataFrame, ts: str) -> tuple[float, ...]:
    return tuple(float(v) for v in frame.loc[pd.Timestamp(ts, tz="UTC"), ["open", "high", "low", "close", "volume"]])


@pytest.fixture
def stored(tsdb: Database) -> Database:
    with tsdb.begin() as conn:
        conn.exec_driver_sql("DELETE FROM candle_rollup_stale")
    write_table(tsdb, "candles", _minutes(0, 180))
    _materialize(tsdb)
    return tsdb


def test_the_writer_bumps_once_and_leaves_nothing_stale(stored: Database) -> None:
    v0 = data_version(stored, "candles", SYMBOL)
    write_table(stored, "candles", _minutes(0, 1).assign(close_price=1.0))
    assert data_version(stored, "candles", SYMBOL) == v0 + 1
    assert _stale(stored) == []


def test_update_below_the_materialization_is_loaded(stored: Database) -> None:
    v0 = data_version(stored, "candles", SYMBOL)
    assert _row(load_candles(stored, SYMBOL, "1h"), "2025-03-03 02:00") == (220.0, 280.0, 219.0, 279.5, 60.0)
    _sql(stored, "UPDATE candles SET close_price = 7, low_price = 1 WHERE symbol = 'KRW-EXT' "
                 "AND timestamp = '2025-03-03 02:59+00'")
    assert data_version(stored, "candles", SYMBOL) == v0 + 1
    assert _stale(stored) == [(SYMBOL, "2025-03-03T02:59:00+00:00", "2025-03-03T02:59:00+00:00")]
    hours = load_candles(stored, SYMBOL, "1h")   # refreshes the aggregates first
    assert _row(hours, "2025-03-03 02:00") == (220.0, 280.0, 1.0, 7.0, 60.0)
    assert _row(hours, "2025-03-03 01:00") == (160.0, 220.0, 159.0, 219.5, 60.0)
    assert _stale(stored) == []
    assert _row(load_candles(stored, SYMBOL, "1d"), "2025-03-03") == (100.0, 280.0, 1.0, 7.0, 180.0)


def test_delete_and_insert_below_the_materialization(stored: Database) -> None:
    _sql(stored, "DELETE FROM candles WHERE symbol = 'KRW-EXT' AND timestamp >= '2025-03-03 01:00+00' "
                 "AND timestamp < '2025-03-03 02:00+00'")
    _sql(stored, "INSERT INTO candles (symbol, timeframe, timestamp, open_price, high_price, low_price, close_price, "
                 "volume) SELECT 'KRW-EXT', '1m', TIMESTAMPTZ '2025-03-02 23:00+00' + g * INTERVAL '1 minute', "
                 "500 + g, 600, 400, 501 + g, 2 FROM generate_series(0, 59) g")
    assert _stale(stored) == [(SYMBOL, "2025-03-02T23:00:00+00:00", "2025-03-03T01:59:00+00:00")]
    hours = load_candles(stored, SYMBOL, "1h")
    assert [t.isoformat() for t in hours.index] == ["2025-03-02T23:00:00+00:00", "2025-03-03T00:00:00+00:00",
                                                    "2025-03-03T02:00:00+00:00"]
    assert _row(hours, "2025-03-02 23:00") == (500.0, 600.0, 400.0, 560.0, 120.0)
    assert _row(load_candles(stored, SYMBOL, "1d"), "2025-03-03") == (100.0, 280.0, 99.0, 279.5, 120.0)


def test_truncate_empties_the_aggregates(stored: Database) -> None:
    v0 = data_version(stored, "candles", SYMBOL)
    _sql(stored, "TRUNCATE candles")
    assert data_version(stored, "candles", SYMBOL) == v0 + 1
    with pytest.raises(DataNotFoundError, match="no 1h candles for KRW-EXT"):
        load_candles(stored, SYMBOL, "1h")
    with stored.begin() as conn:
        counts = [conn.exec_driver_sql(f"SELECT count(*) FROM candle_rollup_{tf}").scalar() for tf in ROLLUPS]
    assert counts == [0] * 5
