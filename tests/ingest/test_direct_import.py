"""The direct import path (new candles copied straight into ``candles``) against the staged upsert:
same rows, same rollups (worked out by hand), the same guarantees when it has to give up."""

from __future__ import annotations

import threading
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from workbench.errors import ImportDataError
from workbench.ingest.importer import import_csv
from workbench.store.database import Database
from workbench.store.queries import query
from workbench.store.writer import write_table

pytestmark = pytest.mark.db

T0 = pd.Timestamp("2025-01-01 23:57", tz="UTC")


def _ms(ts: pd.Timestamp) -> int:
    return int(ts.value // 1_000_000)


def _store(db: Database, rows: list[tuple[str, float, float, float, float, float]]) -> None:
    """Candles of KRW-BTC 1m stored before the import: (UTC time, open, high, low, close, volume)."""
    write_table(db, "candles", pd.DataFrame({
        "symbol": "KRW-BTC", "timeframe": "1m", "timestamp": [pd.Timestamp(r[0], tz="UTC") for r in rows],
        "open_price": [r[1] for r in rows], "high_price": [r[2] for r in rows], "low_price": [r[3] for r in rows],
        "close_price": [r[4] for r in rows], "volume": [r[5] for r in rows]}))


def _twelve_minutes(path: Path) -> None:
    """23:57 .. 00:08 (k = 0..11): open 100+k, high 101+k, low 99+k, close 100.5+k, volume 1."""
    lines = ["timestamp,open,high,low,close,volume"]
    for k in range(12):
        lines.append(f"{_ms(T0 + pd.Timedelta(minutes=k))},{100 + k},{101 + k},{99 + k},{100.5 + k},1")
    path.write_text("\n".join(lines) + "\n")


# stored neighbours in the edge buckets: 23:55 and 23:56 (5m bucket 23:55), 00:09 (5m bucket 00:05)
NEIGHBOURS = [("2025-01-01 23:55", 50.0, 200.0, 40.0, 55.0, 3.0), ("2025-01-01 23:56", 55.0, 60.0, 50.0, 56.0, 3.0),
              ("2025-01-02 00:09", 300.0, 310.0, 5.0, 305.0, 7.0)]
# by hand: 5m 23:55 = 23:55, 23:56 (stored) + k=0..2 -> open 50, high 200, low 40, close 102.5 (k=2), volume 3+3+3
#          5m 00:00 = k=3..7 -> open 103, high 108, low 102, close 107.5, volume 5
#          5m 00:05 = k=8..11 + 00:09 (stored) -> open 108, high 310, low 5, close 305, volume 4+7
# every longer bucket holds either the 23:55 bucket alone or the 00:00 and 00:05 buckets together
BEFORE_MIDNIGHT = (50.0, 200.0, 40.0, 102.5, 9.0)
AFTER_MIDNIGHT = (103.0, 310.0, 5.0, 305.0, 16.0)
EXPECTED = {
    "5m": {"2025-01-01 23:55": BEFORE_MIDNIGHT, "2025-01-02 00:00": (103.0, 108.0, 102.0, 107.5, 5.0),
           "2025-01-02 00:05": (108.0, 310.0, 5.0, 305.0, 11.0)},
    "15m": {"2025-01-01 23:45": BEFORE_MIDNIGHT, "2025-01-02 00:00": AFTER_MIDNIGHT},
    "1h": {"2025-01-01 23:00": BEFORE_MIDNIGHT, "2025-01-02 00:00": AFTER_MIDNIGHT},
    "4h": {"2025-01-01 20:00": BEFORE_MIDNIGHT, "2025-01-02 00:00": AFTER_MIDNIGHT},
    "1d": {"2025-01-01 00:00": BEFORE_MIDNIGHT, "2025-01-02 00:00": AFTER_MIDNIGHT},
}


def _rollups(db: Database) -> dict[str, dict[str, tuple[float, ...]]]:
    with db.begin() as conn:
        rows = conn.exec_driver_sql("SELECT timeframe, ts, open, high, low, close, volume FROM candle_rollups "
                                    "WHERE symbol = 'KRW-BTC' ORDER BY timeframe, ts").all()
    out: dict[str, dict[str, tuple[float, ...]]] = {}
    for tf, ts, *values in rows:
        out.setdefault(tf, {})[pd.Timestamp(ts).tz_convert("UTC").strftime("%Y-%m-%d %H:%M")] = tuple(values)
    return out


def _candles(db: Database) -> list[tuple[object, ...]]:
    with db.begin() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(
            "SELECT symbol, timeframe, timestamp, open_price, high_price, low_price, close_price, volume FROM candles "
            "ORDER BY symbol, timeframe, timestamp").all()]


def _version(db: Database) -> int:
    with db.begin() as conn:
        return int(conn.exec_driver_sql("SELECT coalesce(max(version), 0) FROM data_versions WHERE symbol = 'KRW-BTC'"
                                        ).scalar() or 0)


@pytest.mark.parametrize("direct", [True, False])
def test_direct_and_staged_imports_write_the_same_rows_and_rollups(db: Database, tmp_path: Path,
                                                                   direct: bool) -> None:
    path = tmp_path / "m.csv"
    _twelve_minutes(path)
    _store(db, NEIGHBOURS)
    version = _version(db)
    result = import_csv(db, path, "candles", symbol="KRW-BTC", timeframe="1m", direct=direct)
    assert (result.inserted, result.updated, result.direct) == (12, 0, direct)
    assert _version(db) == version + 1
    assert _rollups(db) == EXPECTED
    rows = _candles(db)
    assert len(rows) == 15 and rows[2][2] == T0 and rows[2][3:] == (100.0, 101.0, 99.0, 100.5, 1.0)
    again = import_csv(db, path, "candles", symbol="KRW-BTC", timeframe="1m")
    assert (again.inserted, again.updated, again.direct) == (0, 0, False) and _version(db) == version + 1
    assert _rollups(db) == EXPECTED


def test_a_later_chunk_over_stored_candles_rolls_back_and_imports_staged(db: Database, tmp_path: Path) -> None:
    # 300 minutes from 00:00, small chunks; minutes 200..209 are stored: 200..204 with the file's
    # values, 205..209 with other ones. Line 3 (minute 1) is bad and skipped.
    start = pd.Timestamp("2025-03-01", tz="UTC")
    lines = ["timestamp,open,high,low,close,volume"]
    for i in range(300):
        lines.append(f"{_ms(start + pd.Timedelta(minutes=i))},10,12,9,11,2" if i != 1 else f"{_ms(start)}x,1,1,1,1,1")
    path = tmp_path / "later.csv"
    path.write_text("\n".join(lines) + "\n")
    _store(db, [(str(start + pd.Timedelta(minutes=200 + i)).replace("+00:00", ""), 10.0, 12.0, 9.0,
                 11.0 if i < 5 else 99.0, 2.0) for i in range(10)])
    result = import_csv(db, path, "candles", symbol="KRW-BTC", timeframe="1m", on_error="skip", block_size=1 << 10)
    assert (result.inserted, result.updated, result.unchanged, result.rejected) == (289, 5, 5, 1)
    assert not result.direct
    assert result.rejects_path is not None
    assert pd.read_csv(result.rejects_path)["line"].tolist() == [3]   # listed once, not once per attempt
    assert len(_candles(db)) == 299 and {r[6] for r in _candles(db)} == {11.0}
    hours = _rollups(db)["1h"]
    assert len(hours) == 5 and hours["2025-03-01 00:00"] == (10.0, 12.0, 9.0, 11.0, 118.0)   # 59 minutes x 2


@pytest.mark.parametrize("direct", [True, False])
def test_a_key_repeated_in_a_later_chunk_is_named_with_its_line(db: Database, tmp_path: Path, direct: bool) -> None:
    start = pd.Timestamp("2025-03-01", tz="UTC")
    lines = ["timestamp,open,high,low,close,volume"]
    lines += [f"{_ms(start + pd.Timedelta(minutes=i))},10,12,9,11,2" for i in range(100)]
    lines.append(f"{_ms(start + pd.Timedelta(minutes=5))},10,12,9,11,3")   # line 102 repeats line 7
    path = tmp_path / "dup.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ImportDataError, match="line 102: same symbol, timeframe, timestamp as line 7"):
        import_csv(db, path, "candles", symbol="KRW-BTC", timeframe="1m", block_size=1 << 10, direct=direct)
    assert _candles(db) == [] and _rollups(db) == {}


def test_sorted_files_either_way_skip_no_repeated_key(db: Database, tmp_path: Path) -> None:
    start = pd.Timestamp("2025-03-01", tz="UTC")
    minutes = [*range(100, 0, -1), 50]   # newest first (as CryptoDataDownload writes), then minute 50 again
    path = tmp_path / "desc.csv"
    path.write_text("timestamp,open,high,low,close,volume\n" + "".join(
        f"{_ms(start + pd.Timedelta(minutes=m))},10,12,9,11,2\n" for m in minutes))
    with pytest.raises(ImportDataError, match="line 102: same symbol, timeframe, timestamp as line 52"):
        import_csv(db, path, "candles", symbol="KRW-BTC", timeframe="1m", block_size=1 << 10, direct=False)
    path.write_text("timestamp,open,high,low,close,volume\n" + "".join(
        f"{_ms(start + pd.Timedelta(minutes=m))},10,12,9,11,2\n" for m in minutes[:-1]))
    result = import_csv(db, path, "candles", symbol="KRW-BTC", timeframe="1m", block_size=1 << 10, direct=False)
    assert (result.inserted, result.direct) == (100, False) and len(_candles(db)) == 100


def test_concurrent_overlapping_direct_imports_count_every_row_once(database_url: str, db: Database,
                                                                    tmp_path: Path) -> None:
    start = pd.Timestamp("2025-04-01", tz="UTC")
    files = []
    for name, first in (("a", 0), ("b", 500)):   # minutes 0..999 and 500..1499, equal where they overlap
        path = tmp_path / f"{name}.csv"
        path.write_text("timestamp,open,high,low,close,volume\n" + "".join(
            f"{_ms(start + pd.Timedelta(minutes=i))},10,12,9,11,1\n" for i in range(first, first + 1000)))
        files.append(path)
    barrier = threading.Barrier(2)
    results: dict[str, int] = {}
    errors: list[BaseException] = []

    def run(path: Path) -> None:
        own = Database(database_url)
        try:
            barrier.wait()
            results[path.name] = import_csv(own, path, "candles", symbol="KRW-BTC", timeframe="1m",
                                            block_size=1 << 12).inserted
        except BaseException as err:  # reported below
            errors.append(err)
        finally:
            own.dispose()

    threads = [threading.Thread(target=run, args=(f,)) for f in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(results.values()) in ([500, 1000], [0, 1500]) and sum(results.values()) == 1500
    with db.begin() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM candles")).scalar() == 1500
        fives = conn.execute(sa.text("SELECT count(*), min(volume), max(volume) FROM candle_rollups "
                                     "WHERE timeframe = '5m'")).one()
    assert tuple(fives) == (300, 5.0, 5.0)   # 1,500 minutes from 00:00 = 300 full 5m buckets of volume 5


def test_rollups_kept_after_their_minutes_were_dropped_are_rewritten(db: Database, tmp_path: Path) -> None:
    # an hour stored with volume 1 a minute, its minutes then dropped (as retention does after an
    # archive) while the rollups stay; the same hour imported again with volume 2 a minute
    start = pd.Timestamp("2025-05-01", tz="UTC")
    _store(db, [(str(start + pd.Timedelta(minutes=i)).replace("+00:00", ""), 10.0, 12.0, 9.0, 11.0, 1.0)
                for i in range(60)])
    with db.begin() as conn:   # marked as retention marks it: the triggers of 0052 leave the rollups
        conn.execute(query("candles_maintained").text)
        conn.exec_driver_sql("DELETE FROM candles")
    path = tmp_path / "again.csv"
    path.write_text("timestamp,open,high,low,close,volume\n" + "".join(
        f"{_ms(start + pd.Timedelta(minutes=i))},10,12,9,11,2\n" for i in range(60)))
    result = import_csv(db, path, "candles", symbol="KRW-BTC", timeframe="1m")
    assert (result.inserted, result.direct) == (60, True)
    rollups = _rollups(db)
    assert set(rollups["5m"].values()) == {(10.0, 12.0, 9.0, 11.0, 10.0)} and len(rollups["5m"]) == 12
    assert rollups["1h"] == {"2025-05-01 00:00": (10.0, 12.0, 9.0, 11.0, 120.0)}
