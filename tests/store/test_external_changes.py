"""Changes to ``candles`` made by other SQL clients (migration 0052's triggers, plain PostgreSQL):
the data version moves, the rollups follow, loads and the cache see the change.

The other client is a plain psycopg connection in autocommit (what psql does). Expected values are
worked out by hand from the minutes written: minute ``i`` (from 2025-03-03 00:00 UTC) has open
``100 + i``, high ``101 + i``, low ``99 + i``, close ``100.5 + i`` and volume 1.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pandas as pd
import psycopg
import pytest

from workbench.errors import DataNotFoundError
from workbench.store.archive import apply_retention
from workbench.store.cache import RedisCache, TieredCache
from workbench.store.database import Database
from workbench.store.market_data import load_candles
from workbench.store.versions import data_version
from workbench.store.writer import StagedWrite, write_table

pytestmark = pytest.mark.db

SYMBOL = "KRW-EXT"
T0 = pd.Timestamp("2025-03-03 00:00", tz="UTC")


def _minutes(first: int, count: int, symbol: str = SYMBOL) -> pd.DataFrame:
    i = pd.RangeIndex(first, first + count).to_numpy().astype(float)
    return pd.DataFrame({"symbol": symbol, "timeframe": "1m",
                         "timestamp": T0 + pd.to_timedelta(i, unit="min"),
                         "open_price": 100 + i, "high_price": 101 + i, "low_price": 99 + i,
                         "close_price": 100.5 + i, "volume": 1.0})


@pytest.fixture
def stored(db: Database) -> Database:
    """Three hours of minutes (00:00-02:59) written by the workbench."""
    write_table(db, "candles", _minutes(0, 180))
    return db


@pytest.fixture
def psql(database_url: str) -> Iterator[psycopg.Connection]:
    """Another SQL client: its own connection, autocommit."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn


def _row(frame: pd.DataFrame, ts: str) -> tuple[float, ...]:
    return tuple(float(v) for v in frame.loc[pd.Timestamp(ts, tz="UTC"), ["open", "high", "low", "close", "volume"]])


def _rollup_counts(db: Database) -> dict[str, int]:
    with db.begin() as conn:
        rows = conn.exec_driver_sql("SELECT timeframe, count(*) FROM candle_rollups WHERE symbol = %s "
                                    "GROUP BY timeframe", (SYMBOL,)).all()
    return {str(tf): int(n) for tf, n in rows}


def test_the_workbench_writer_bumps_once_and_the_triggers_skip_it(db: Database) -> None:
    v0 = data_version(db, "candles", SYMBOL)   # data_versions outlives the tables' emptying between tests
    write_table(db, "candles", _minutes(0, 60))
    assert data_version(db, "candles", SYMBOL) == v0 + 1
    write_table(db, "candles", _minutes(0, 1).assign(close_price=1.0))
    assert data_version(db, "candles", SYMBOL) == v0 + 2
    with StagedWrite(db, "candles", direct=True) as w:   # the direct path (COPY straight into candles)
        w.add(_minutes(60, 60))
        w.commit()
    assert w.direct and data_version(db, "candles", SYMBOL) == v0 + 3
    assert _row(load_candles(db, SYMBOL, "1h"), "2025-03-03 01:00") == (160.0, 220.0, 159.0, 219.5, 60.0)


def test_update_of_one_close_reaches_every_rollup_level(stored: Database, psql: psycopg.Connection) -> None:
    before = data_version(stored, "candles", SYMBOL)
    psql.execute("UPDATE candles SET close_price = 7, low_price = 1 WHERE symbol = %s AND timeframe = '1m' "
                 "AND timestamp = '2025-03-03 02:59+00'", (SYMBOL,))
    assert data_version(stored, "candles", SYMBOL) == before + 1
    hours = load_candles(stored, SYMBOL, "1h")
    assert _row(hours, "2025-03-03 02:00") == (220.0, 280.0, 1.0, 7.0, 60.0)
    assert _row(hours, "2025-03-03 01:00") == (160.0, 220.0, 159.0, 219.5, 60.0)   # untouched
    for tf in ("5m", "15m", "4h", "1d"):
        frame = load_candles(stored, SYMBOL, tf)
        assert float(frame["close"].iloc[-1]) == 7.0 and float(frame["low"].min()) == 1.0, tf
    assert _row(load_candles(stored, SYMBOL, "1d"), "2025-03-03") == (100.0, 280.0, 1.0, 7.0, 180.0)


def test_a_cached_frame_is_not_served_after_an_update(stored: Database, psql: psycopg.Connection,
                                                      redis_cache: RedisCache) -> None:
    cache = TieredCache(RedisCache(redis_cache.client, secret=b"k" * 32))
    first = load_candles(stored, SYMBOL, "1h", cache=cache)
    assert _row(first, "2025-03-03 00:00") == (100.0, 160.0, 99.0, 159.5, 60.0)
    load_candles(stored, SYMBOL, "1h", cache=cache)
    assert cache.hits == 1   # the second load came from the cache
    psql.execute("UPDATE candles SET close_price = 42 WHERE symbol = %s AND timestamp = '2025-03-03 00:59+00'",
                 (SYMBOL,))
    again = load_candles(stored, SYMBOL, "1h", cache=cache)
    assert cache.hits == 1   # a miss: the key's version moved
    assert _row(again, "2025-03-03 00:00") == (100.0, 160.0, 99.0, 42.0, 60.0)
    fresh = TieredCache(RedisCache(redis_cache.client, secret=b"k" * 32))   # another process, same Redis
    assert _row(load_candles(stored, SYMBOL, "1h", cache=fresh), "2025-03-03 00:00")[3] == 42.0


def test_delete_of_rows_removes_or_shrinks_their_buckets(stored: Database, psql: psycopg.Connection) -> None:
    psql.execute("DELETE FROM candles WHERE symbol = %s AND timestamp >= '2025-03-03 01:00+00' "
                 "AND timestamp < '2025-03-03 02:00+00'", (SYMBOL,))
    psql.execute("DELETE FROM candles WHERE symbol = %s AND timestamp < '2025-03-03 00:05+00'", (SYMBOL,))
    hours = load_candles(stored, SYMBOL, "1h")
    assert [str(t) for t in hours.index] == ["2025-03-03 00:00:00+00:00", "2025-03-03 02:00:00+00:00"]
    assert _row(hours, "2025-03-03 00:00") == (105.0, 160.0, 104.0, 159.5, 55.0)
    assert _row(load_candles(stored, SYMBOL, "1d"), "2025-03-03") == (105.0, 280.0, 104.0, 279.5, 115.0)
    # 23 of the 36 5m buckets, 8 of the 12 15m ones hold minutes
    assert _rollup_counts(stored) == {"5m": 23, "15m": 8, "1h": 2, "4h": 1, "1d": 1}


def test_insert_and_copy_of_new_rows(stored: Database, psql: psycopg.Connection) -> None:
    v0 = data_version(stored, "candles", SYMBOL)
    psql.execute("INSERT INTO candles (symbol, timeframe, timestamp, open_price, high_price, low_price, close_price, "
                 "volume) SELECT %s, '1m', TIMESTAMPTZ '2025-03-03 03:00+00' + g * INTERVAL '1 minute', "
                 "500 + g, 600, 400, 501 + g, 2 FROM generate_series(0, 59) g", (SYMBOL,))
    with psql.cursor() as cur, cur.copy("COPY candles (symbol, timeframe, timestamp, open_price, high_price, "
                                        "low_price, close_price, volume) FROM STDIN") as copy:
        for m in range(30):
            copy.write_row((SYMBOL, "1m", T0 + pd.Timedelta(hours=4, minutes=m), 9.0, 10.0, 8.0, 9.5, 3.0))
    hours = load_candles(stored, SYMBOL, "1h")
    assert _row(hours, "2025-03-03 03:00") == (500.0, 600.0, 400.0, 560.0, 120.0)
    assert _row(hours, "2025-03-03 04:00") == (9.0, 10.0, 8.0, 9.5, 90.0)
    assert _row(load_candles(stored, SYMBOL, "1d"), "2025-03-03") == (100.0, 600.0, 8.0, 9.5, 390.0)
    assert data_version(stored, "candles", SYMBOL) == v0 + 2   # the INSERT, the COPY


def test_truncate_empties_the_rollups_and_moves_the_version(stored: Database, psql: psycopg.Connection,
                                                            redis_cache: RedisCache) -> None:
    cache = RedisCache(redis_cache.client, secret=b"k" * 32)
    assert len(load_candles(stored, SYMBOL, "1h", cache=cache)) == 3
    psql.execute("TRUNCATE candles")
    assert _rollup_counts(stored) == {}
    with pytest.raises(DataNotFoundError, match="no 1h candles for KRW-EXT"):
        load_candles(stored, SYMBOL, "1h", cache=cache)
    assert len(load_candles(stored, SYMBOL, "1h", cache=cache, allow_empty=True)) == 0


def test_one_statement_over_two_symbols_bumps_both(stored: Database, psql: psycopg.Connection) -> None:
    write_table(stored, "candles", _minutes(0, 5, "KRW-EXT2"))
    v0 = (data_version(stored, "candles", SYMBOL), data_version(stored, "candles", "KRW-EXT2"))
    psql.execute("UPDATE candles SET volume = 2 WHERE timestamp = '2025-03-03 00:00+00'")
    assert (data_version(stored, "candles", SYMBOL), data_version(stored, "candles", "KRW-EXT2")) == (
        v0[0] + 1, v0[1] + 1)
    assert _row(load_candles(stored, "KRW-EXT2", "5m"), "2025-03-03 00:00")[4] == 6.0


def test_a_rolled_back_change_leaves_nothing(stored: Database, psql: psycopg.Connection) -> None:
    v0 = data_version(stored, "candles", SYMBOL)
    with psql.transaction(force_rollback=True):
        psql.execute("UPDATE candles SET close_price = 7 WHERE symbol = %s", (SYMBOL,))
    assert data_version(stored, "candles", SYMBOL) == v0
    assert _row(load_candles(stored, SYMBOL, "1h"), "2025-03-03 00:00")[3] == 159.5


def test_retention_keeps_the_rollups_of_archived_minutes(stored: Database) -> None:
    with stored.begin() as conn:   # as if `workbench archive` had archived everything
        conn.exec_driver_sql("INSERT INTO archive_watermarks (table_name, archived_until) "
                             "VALUES ('candles', '2030-01-01')")
    v0 = data_version(stored, "candles", SYMBOL)
    report = apply_retention(stored, tables=("candles",))
    assert report.deleted == {"candles": 180}
    assert _rollup_counts(stored) == {"5m": 36, "15m": 12, "1h": 3, "4h": 1, "1d": 1}
    assert data_version(stored, "candles", SYMBOL) == v0


def test_changes_with_triggers_disabled_are_not_seen(stored: Database, psql: psycopg.Connection) -> None:
    """The documented limit (README): a session with session_replication_role = replica fires no triggers."""
    v0 = data_version(stored, "candles", SYMBOL)
    with psql.transaction():
        psql.execute("SET LOCAL session_replication_role = replica")
        psql.execute("UPDATE candles SET close_price = 7 WHERE symbol = %s AND timestamp = '2025-03-03 00:59+00'",
                     (SYMBOL,))
    assert data_version(stored, "candles", SYMBOL) == v0
    assert _row(load_candles(stored, SYMBOL, "1h"), "2025-03-03 00:00")[3] == 159.5   # the rollup, not the row


def test_a_no_op_update_rebuilds_the_rollups_of_its_rows(stored: Database, psql: psycopg.Connection) -> None:
    """The README's way to repair rollups that went wrong before migration 0052."""
    with stored.begin() as conn:
        conn.exec_driver_sql("UPDATE candle_rollups SET close = -1 WHERE symbol = %s", (SYMBOL,))
    psql.execute("UPDATE candles SET volume = volume WHERE symbol = %s AND timestamp < '2025-03-03 01:00+00'",
                 (SYMBOL,))
    hours = load_candles(stored, SYMBOL, "1h")
    assert _row(hours, "2025-03-03 00:00") == (100.0, 160.0, 99.0, 159.5, 60.0)
    assert _row(hours, "2025-03-03 01:00")[3] == -1.0   # not matched: left as it was


def test_two_clients_changing_one_bucket_at_once(stored: Database, database_url: str) -> None:
    """The second client's triggers wait until the first one commits (its series lock and data
    version row), then recompute the bucket from both changes, not from a snapshot without the first."""
    first = psycopg.connect(database_url)
    first.execute("UPDATE candles SET open_price = 1 WHERE symbol = %s AND timestamp = '2025-03-03 00:00+00'",
                  (SYMBOL,))   # not committed yet: holds the series lock
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with psycopg.connect(database_url) as conn:
                conn.execute("UPDATE candles SET high_price = 999 WHERE symbol = %s "
                             "AND timestamp = '2025-03-03 00:01+00'", (SYMBOL,))
                conn.commit()
        except BaseException as err:   # reported by the assert below
            errors.append(err)

    thread = threading.Thread(target=second)
    thread.start()
    try:
        for _ in range(600):   # until the second client waits for a lock (or gave up)
            with stored.begin() as conn:
                waiting = conn.exec_driver_sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                               "AND datname = current_database()").scalar()
            if waiting or not thread.is_alive():
                break
            time.sleep(0.05)
        assert waiting == 1
        first.commit()
    finally:
        first.close()
        thread.join(60)
    assert errors == []
    assert _row(load_candles(stored, SYMBOL, "5m"), "2025-03-03 00:00") == (1.0, 999.0, 99.0, 104.5, 5.0)
    assert _row(load_candles(stored, SYMBOL, "1h"), "2025-03-03 00:00") == (1.0, 999.0, 99.0, 159.5, 60.0)
