"""Archive integrity (issue 16): every archived file is recorded (sha256, rows, time span, partition)
and a load checks the files it reads: a damaged, truncated, swapped, deleted or stray file is an error
naming it, never wrong prices."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workbench.errors import ArchiveIntegrityError
from workbench.ingest.sample import generate_sample_candles
from workbench.store.archive import Archive, archive
from workbench.store.archive_verify import adopt_unrecorded, verify_archive
from workbench.store.database import Database
from workbench.store.market_data import load_candles
from workbench.store.writer import write_table

pytestmark = [pytest.mark.db, pytest.mark.redis]

START = pd.Timestamp("2025-01-30", tz="UTC")  # 4 days: 2 in January, 2 in February
SYMBOLS = {"KRW-SYNBTC": 1_000_000.0, "KRW-SYNETH": 50_000.0}
HINT = "; its rows are not used (`workbench archive --verify` checks every file)"


def _rel(symbol: str, month: str) -> str:
    return f"candles/symbol={symbol}/timeframe=1m/month={month}/part.parquet"


@pytest.fixture
def archived(db: Database, tmp_path: Path) -> Archive:
    """4 days of 1m candles of two symbols, archived and then deleted from the database."""
    write_table(db, "candles", generate_sample_candles(SYMBOLS, start=START, days=4))
    store = Archive.open(tmp_path / "arc")
    archive(db, store, before=START + pd.Timedelta(days=4))
    with db.begin() as conn:
        conn.exec_driver_sql("DELETE FROM candles")  # as retention would: only the archive has them now
    return store


def _load(db: Database, store: Archive, symbol: str, start: str = "2025-01-30",
          end: str = "2025-02-03") -> pd.DataFrame:
    return load_candles(db, symbol, "1m", start, end, archive=store)


def _fails(db: Database, store: Archive, symbol: str, message: str, **kw: str) -> None:
    with pytest.raises(ArchiveIntegrityError) as err:
        _load(db, store, symbol, **kw)
    assert str(err.value) == message + HINT


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_each_file_is_recorded_with_digest_rows_span_and_partition(db: Database, archived: Archive) -> None:
    root = Path(archived.root)
    with db.begin() as conn:
        rows = conn.exec_driver_sql(
            "SELECT path, sha256, table_name, symbol, timeframe, month::text, size_bytes, row_count, "
            "min_time, max_time, committed FROM archive_files ORDER BY path").all()
    want = []
    for sym in SYMBOLS:
        for month, first, last in (("2025-01", "2025-01-30 00:00", "2025-01-31 23:59"),
                                   ("2025-02", "2025-02-01 00:00", "2025-02-02 23:59")):
            path = root / _rel(sym, month)
            want.append((_rel(sym, month), _sha(path), "candles", sym, "1m", f"{month}-01", path.stat().st_size,
                         2 * 1440, pd.Timestamp(first, tz="UTC"), pd.Timestamp(last, tz="UTC"), True))
    assert [tuple(r) for r in rows] == want
    got = _load(db, archived, "KRW-SYNBTC")
    assert len(got) == 4 * 1440 and got.index[0] == START


def test_flipped_bytes_fail_the_load_naming_the_file(db: Database, archived: Archive) -> None:
    path = Path(archived.root) / _rel("KRW-SYNBTC", "2025-01")
    recorded = _sha(path)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 16] = bytes(b ^ 0xFF for b in data[middle:middle + 16])
    path.write_bytes(bytes(data))
    _fails(db, archived, "KRW-SYNBTC",
           f"archive file '{path.as_posix()}' is damaged: its sha256 {_sha(path)} is not the recorded {recorded}")
    # only the files a load touches are checked: February alone still loads
    assert len(_load(db, archived, "KRW-SYNBTC", start="2025-02-01")) == 2 * 1440
    assert len(_load(db, archived, "KRW-SYNETH")) == 4 * 1440


def test_a_truncated_file_fails_the_load(db: Database, archived: Archive) -> None:
    path = Path(archived.root) / _rel("KRW-SYNETH", "2025-02")
    recorded = _sha(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    _fails(db, archived, "KRW-SYNETH",
           f"archive file '{path.as_posix()}' is damaged: its sha256 {_sha(path)} is not the recorded {recorded}")


def test_files_swapped_between_symbols_fail_both_loads(db: Database, archived: Archive) -> None:
    btc = Path(archived.root) / _rel("KRW-SYNBTC", "2025-01")
    eth = Path(archived.root) / _rel("KRW-SYNETH", "2025-01")
    tmp = btc.with_name("swap")
    btc.rename(tmp)
    eth.rename(btc)
    tmp.rename(eth)
    _fails(db, archived, "KRW-SYNBTC", f"archive file '{btc.as_posix()}' holds KRW-SYNETH 1m "
           "2025-01-30 00:00..2025-01-31 23:59, not candles KRW-SYNBTC 1m 2025-01")
    _fails(db, archived, "KRW-SYNETH", f"archive file '{eth.as_posix()}' holds KRW-SYNBTC 1m "
           "2025-01-30 00:00..2025-01-31 23:59, not candles KRW-SYNETH 1m 2025-01")


def test_a_deleted_file_fails_loads_of_its_range_only(db: Database, archived: Archive) -> None:
    path = Path(archived.root) / _rel("KRW-SYNETH", "2025-02")
    path.unlink()
    _fails(db, archived, "KRW-SYNETH", f"archive file '{path.as_posix()}' is missing: it was archived with "
           "2,880 rows of candles KRW-SYNETH 1m 2025-02")
    shutil.rmtree(path.parent)  # the month's folder gone too: the record still says it was archived
    _fails(db, archived, "KRW-SYNETH", f"archive file '{path.as_posix()}' is missing: it was archived with "
           "2,880 rows of candles KRW-SYNETH 1m 2025-02")
    assert len(_load(db, archived, "KRW-SYNETH", end="2025-02-01")) == 2 * 1440


def test_an_unknown_file_fails_the_load(db: Database, archived: Archive) -> None:
    path = Path(archived.root) / _rel("KRW-SYNBTC", "2025-03")
    path.parent.mkdir(parents=True)
    march = generate_sample_candles({"KRW-SYNBTC": 1_000_000.0}, start="2025-03-01", days=1)
    pq.write_table(pa.Table.from_pandas(march, preserve_index=False), path)
    _fails(db, archived, "KRW-SYNBTC", f"archive file '{path.as_posix()}' was not written by `workbench archive` "
           "(no record of it in the database)", end="2025-03-02")
    assert len(_load(db, archived, "KRW-SYNBTC")) == 4 * 1440  # a range without it is unaffected


def test_verify_reports_every_case(db: Database, archived: Archive) -> None:
    root = Path(archived.root)
    assert str(verify_archive(db, archived)) == "\n".join([
        f"archive {archived.url}: 4 files, all ok",
        "file" + " " * 61 + "  status          detail",
        *(f"{_rel(s, m)}  ok" for s in SYMBOLS for m in ("2025-01", "2025-02"))])
    (root / _rel("KRW-SYNETH", "2025-02")).unlink()
    btc = root / _rel("KRW-SYNBTC", "2025-02")
    btc.write_bytes(btc.read_bytes()[:100])
    (root / "candles" / "notes.txt").write_text("hello")
    report = verify_archive(db, archived)
    assert {p: v.status for p, v in report.files.items()} == {
        _rel("KRW-SYNBTC", "2025-01"): "ok",
        _rel("KRW-SYNBTC", "2025-02"): "damaged",
        _rel("KRW-SYNETH", "2025-01"): "ok",
        _rel("KRW-SYNETH", "2025-02"): "missing",
        "candles/notes.txt": "unrecorded",
    }
    assert not report.ok


def test_archiving_into_a_damaged_file_fails_and_leaves_it(db: Database, archived: Archive) -> None:
    path = Path(archived.root) / _rel("KRW-SYNBTC", "2025-02")
    data = bytearray(path.read_bytes())
    data[200:216] = bytes(16)
    path.write_bytes(bytes(data))
    damaged = path.read_bytes()
    late = generate_sample_candles({"KRW-SYNBTC": 1_000_000.0}, start="2025-02-02", days=1).iloc[[7]]
    write_table(db, "candles", late)  # a late correction of archived history: the next run merges it
    with pytest.raises(ArchiveIntegrityError, match="is damaged"):
        archive(db, archived, before=pd.Timestamp("2025-02-03", tz="UTC"))
    assert path.read_bytes() == damaged


def test_a_run_killed_after_moving_files_loses_nothing(db: Database, archived: Archive) -> None:
    """Files moved into place by a run that never committed (killed) are recorded as uncommitted
    versions: loads accept them, --verify says ok, and the next run commits them."""
    fix = generate_sample_candles({"KRW-SYNBTC": 1_000_000.0}, start="2025-01-31", days=1).iloc[[60]].copy()
    fix["close_price"] = 123.0
    write_table(db, "candles", fix)

    class Killed(Exception):
        pass

    def kill_after_first(months, table, total):  # type: ignore[no-untyped-def]
        yield from months
        if table == "candles":
            raise Killed

    with pytest.raises(Killed):
        archive(db, archived, before=pd.Timestamp("2025-02-03", tz="UTC"), progress=kill_after_first)
    with db.begin() as conn:
        versions = conn.exec_driver_sql("SELECT committed FROM archive_files WHERE path = %(p)s ORDER BY 1",
                                        {"p": _rel("KRW-SYNBTC", "2025-01")}).scalars().all()
    assert versions == [False, True]
    moved = archived.read(db, "candles", pd.Timestamp("2025-01-31 01:00", tz="UTC"),
                          pd.Timestamp("2025-01-31 01:01", tz="UTC"), symbol="KRW-SYNBTC", timeframe="1m")
    assert moved is not None and moved.column("close_price").to_pylist() == [123.0]
    assert verify_archive(db, archived).ok
    archive(db, archived, before=pd.Timestamp("2025-02-03", tz="UTC"))  # the run again: commits it
    with db.begin() as conn:
        assert tuple(conn.exec_driver_sql("SELECT count(*), bool_and(committed) FROM archive_files").one()) == (4, True)
        conn.exec_driver_sql("DELETE FROM candles")
    got = _load(db, archived, "KRW-SYNBTC")
    assert got.loc["2025-01-31 01:00", "close"] == 123.0 and len(got) == 4 * 1440
    assert verify_archive(db, archived).ok


def test_adopting_an_archive_written_before_the_records(db: Database, archived: Archive) -> None:
    """An archive from before migration 0051 has no records: every file is unrecorded until adopted;
    only files holding exactly their partition's rows are adopted."""
    root = Path(archived.root)
    with db.begin() as conn:
        want = conn.exec_driver_sql("SELECT path, sha256, row_count, min_time, max_time FROM archive_files "
                                    "WHERE path <> %(p)s ORDER BY path", {"p": _rel("KRW-SYNBTC", "2025-01")}).all()
        conn.exec_driver_sql("DELETE FROM archive_files")
    shutil.copyfile(root / _rel("KRW-SYNETH", "2025-01"), root / _rel("KRW-SYNBTC", "2025-01"))  # misplaced
    assert {v.status for v in verify_archive(db, archived).files.values()} == {"unrecorded"}
    _fails(db, archived, "KRW-SYNETH", f"archive file '{(root / _rel('KRW-SYNETH', '2025-01')).as_posix()}' "
           "was not written by `workbench archive` (no record of it in the database)")

    assert adopt_unrecorded(db, archived) == [_rel("KRW-SYNBTC", "2025-02"), _rel("KRW-SYNETH", "2025-01"),
                                              _rel("KRW-SYNETH", "2025-02")]
    with db.begin() as conn:
        got = conn.exec_driver_sql("SELECT path, sha256, row_count, min_time, max_time FROM archive_files "
                                   "WHERE committed ORDER BY path").all()
    assert [tuple(r) for r in got] == [tuple(r) for r in want]
    assert {p: v.status for p, v in verify_archive(db, archived).files.items()} == {
        _rel("KRW-SYNBTC", "2025-01"): "wrong identity", _rel("KRW-SYNBTC", "2025-02"): "ok",
        _rel("KRW-SYNETH", "2025-01"): "ok", _rel("KRW-SYNETH", "2025-02"): "ok"}
    assert len(_load(db, archived, "KRW-SYNETH")) == 4 * 1440
    assert adopt_unrecorded(db, archived) == []  # the misplaced file stays out
