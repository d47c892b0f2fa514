"""Parquet archive + retention on plain PostgreSQL: history survives retention, loaders see one frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from workbench.ingest.sample import generate_sample_candles
from workbench.store.archive import Archive, apply_retention, archive
from workbench.store.database import Database
from workbench.store.writer import write_frame, write_table

pytestmark = [pytest.mark.db, pytest.mark.redis]

OLD_START = pd.Timestamp("2025-01-20", tz="UTC")


def _recent_start() -> pd.Timestamp:
    return (pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=2)).floor("1D")


def _history() -> pd.DataFrame:
    old = generate_sample_candles({"KRW-SYNBTC": 1_000_000.0, "KRW-SYNETH": 50_000.0}, start=OLD_START, days=20)
    recent = generate_sample_candles({"KRW-SYNBTC": 1_000_000.0}, start=_recent_start(), days=1)
    return pd.concat([old, recent], ignore_index=True)


def _count(db: Database, table: str = "candles") -> int:
    with db.begin() as conn:
        return int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())


def _by_hand(frame: pd.DataFrame, symbol: str, rule: str) -> pd.DataFrame:
    df = frame[frame.symbol == symbol].set_index("timestamp").sort_index()
    agg = df.resample(rule, origin=pd.Timestamp("2000-01-03", tz="UTC")).agg(
        {"open_price": "first", "high_price": "max", "low_price": "min", "close_price": "last", "volume": "sum"})
    agg.columns = ["open", "high", "low", "close", "volume"]
    return agg.dropna()


def test_archive_then_retention_keeps_the_full_range(session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    frame = _history()
    write_frame(session.db, "candles", frame, cache=session.cache)
    before_1m = session.candles("KRW-SYNBTC", "1m", "2019-01-01", "2100-01-01")
    before_1h = session.candles("KRW-SYNBTC", "1h", "2019-01-01", "2100-01-01")
    assert len(before_1m) == 21 * 1440

    report, deleted = session.archive_history()
    assert report.rows == 2 * 20 * 1440
    assert deleted is not None and deleted.deleted["candles"] == 2 * 20 * 1440
    assert _count(session.db) == 1440  # only the recent day is left in the database

    root = Path(session.settings.archive_location) / "candles"
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.parquet"))
    assert files == [f"symbol={s}/timeframe=1m/month={m}/part.parquet"
                     for s in ("KRW-SYNBTC", "KRW-SYNETH") for m in ("2025-01", "2025-02")]
    meta = pq.ParquetFile(root / files[0]).metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"

    session.cache.invalidate("candle:*")  # no help from the cache (Redis and the in-process tier)
    after_1m = session.candles("KRW-SYNBTC", "1m", "2019-01-01", "2100-01-01")
    pd.testing.assert_frame_equal(after_1m, before_1m)
    after_1h = session.candles("KRW-SYNBTC", "1h", "2019-01-01", "2100-01-01")
    want = _by_hand(frame, "KRW-SYNBTC", "1h")
    assert list(after_1h.index) == list(before_1h.index) == list(want.index)
    np.testing.assert_array_equal(after_1h[["open", "high", "low", "close"]].to_numpy(),
                                  want[["open", "high", "low", "close"]].to_numpy())
    np.testing.assert_allclose(after_1h["volume"].to_numpy(), want["volume"].to_numpy(), rtol=1e-12)
    # a range entirely in the archive, bucketed on the client
    jan = session.candles("KRW-SYNETH", "4h", "2025-01-25", "2025-01-26")
    np.testing.assert_array_equal(jan["close"].to_numpy(),
                                  _by_hand(frame, "KRW-SYNETH", "4h").loc["2025-01-25":"2025-01-25 23:59", "close"])

    again, deleted_again = session.archive_history()  # idempotent
    assert again.rows == 0 and deleted_again is not None and sum(deleted_again.deleted.values()) == 0
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*.parquet")) == files
    assert "nothing to archive" in str(again)


def test_archive_merges_and_late_writes_are_protected(session) -> None:  # type: ignore[no-untyped-def]
    frame = _history()
    write_table(session.db, "candles", frame)
    session.archive_history()
    # a late correction of archived history: the watermark drops below it, retention keeps it
    fix = frame[(frame.symbol == "KRW-SYNBTC") & (frame.timestamp == OLD_START + pd.Timedelta(hours=1))].copy()
    fix["close_price"] = 123.0
    write_table(session.db, "candles", fix)
    assert apply_retention(session.db).deleted["candles"] == 0  # not archived yet: kept
    with session.db.begin() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM candles WHERE close_price = 123").scalar_one() == 1
    _, deleted = session.archive_history()
    assert deleted is not None and deleted.deleted["candles"] == 1
    got = session.candles("KRW-SYNBTC", "1m", OLD_START, OLD_START + pd.Timedelta(hours=2))
    assert got["close"].iloc[60] == 123.0 and len(got) == 120


def test_rows_written_during_an_archive_run_are_not_deleted(session) -> None:  # type: ignore[no-untyped-def]
    frame = _history()
    write_table(session.db, "candles", frame)
    late = frame.iloc[[5]].copy()
    late["timestamp"] = pd.Timestamp("2024-06-01", tz="UTC")  # older than everything, written mid-run

    def progress(months, table, total):  # type: ignore[no-untyped-def]
        for i, m in enumerate(months):
            if table == "candles" and i == 0:
                write_table(session.db, "candles", late)
            yield m

    report = archive(session.db, session.archive, progress=progress)
    assert next(t for t in report.tables if t.table == "candles").raced
    assert "run `workbench archive` again" in str(report)
    assert apply_retention(session.db).deleted["candles"] == 0  # watermark was not raised
    session.archive_history()
    got = session.candles("KRW-SYNBTC", "1m", "2024-06-01", "2024-06-02")
    assert len(got) == 1


def test_archive_location_and_errors(tmp_path: Path, db: Database) -> None:
    from workbench.errors import ArchiveError

    local = Archive.open(tmp_path / "a")
    assert local.months("candles", symbol="KRW-BTC", timeframe="1m") == []
    with pytest.raises(ArchiveError, match="nosuchscheme"):
        Archive.open("nosuchscheme://bucket/x")


def test_archive_on_a_non_local_filesystem(db: Database) -> None:
    """Any pyarrow filesystem URL: here pyarrow's in-memory mock filesystem (as S3 would be used)."""
    from workbench.store.market_data import load_candles

    store = Archive.open("mock:///wb-archive")
    frame = _history()
    write_table(db, "candles", frame)
    before = load_candles(db, "KRW-SYNETH", "1d", "2019-01-01", "2100-01-01")
    report = archive(db, store)
    assert report.rows == 2 * 20 * 1440 and report.files == 4
    assert store.months("candles", symbol="KRW-SYNETH", timeframe="1m") == ["2025-01", "2025-02"]
    assert apply_retention(db).deleted["candles"] == 2 * 20 * 1440
    after = load_candles(db, "KRW-SYNETH", "1d", "2019-01-01", "2100-01-01", archive=store)
    pd.testing.assert_frame_equal(after, before, check_exact=False, rtol=1e-12)
    assert load_candles(db, "KRW-SYNETH", "1d", "2019-01-01", "2100-01-01", allow_empty=True).empty
