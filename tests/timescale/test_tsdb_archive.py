"""Archive + retention on TimescaleDB: the retention job (run with CALL run_job: the server has no
background workers) drops only archived chunks, and the loaders return the full range afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from workbench.app.session import Workbench, connect
from workbench.ingest.sample import generate_sample_candles
from workbench.services.config import Settings
from workbench.store.database import Database
from workbench.store.writer import write_table


def _run_retention_job(db: Database) -> None:
    with db.begin() as conn:
        job = conn.exec_driver_sql("SELECT job_id FROM timescaledb_information.jobs "
                                   "WHERE proc_name = 'workbench_archived_retention'").scalar_one()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"CALL run_job({int(job)})")


def _count(db: Database) -> int:
    with db.begin() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM candles").scalar_one())


@pytest.fixture
def tsdb_session(tsdb: Database, tsdb_migrated: str, tmp_path: Path) -> Iterator[Workbench]:
    with tsdb.begin() as conn:
        conn.exec_driver_sql("DELETE FROM archive_watermarks")
        conn.exec_driver_sql("DELETE FROM archive_files")
    settings = Settings(database_url=tsdb_migrated, single_connection=True, cache_enabled=False,
                        data_dir=tmp_path / "data", _env_file=None)
    wb = connect(settings)
    yield wb
    wb.close()


def test_retention_job_drops_nothing_unarchived(tsdb_session: Workbench) -> None:
    frame = generate_sample_candles({"KRW-SYNBTC": 1_000_000.0}, start="2025-01-06", days=15)
    write_table(tsdb_session.db, "candles", frame)
    _run_retention_job(tsdb_session.db)  # the stock policy took such a table to 0 rows
    assert _count(tsdb_session.db) == len(frame)


def test_archive_then_retention_job_keeps_the_full_range(tsdb_session: Workbench) -> None:
    old = generate_sample_candles({"KRW-SYNBTC": 1_000_000.0}, start="2025-01-06", days=15)
    recent_start = (pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=2)).floor("1D")
    recent = generate_sample_candles({"KRW-SYNBTC": 1_000_000.0}, start=recent_start, days=1)
    write_table(tsdb_session.db, "candles", pd.concat([old, recent], ignore_index=True))
    before_1m = tsdb_session.candles("KRW-SYNBTC", "1m", "2019-01-01", "2100-01-01")
    before_1d = tsdb_session.candles("KRW-SYNBTC", "1d", "2019-01-01", "2100-01-01")

    report, deleted = tsdb_session.archive_history()
    assert deleted is None  # on TimescaleDB the job does the deleting
    assert report.rows == len(old)
    _run_retention_job(tsdb_session.db)
    assert _count(tsdb_session.db) < len(old)  # whole old chunks are gone from the database
    assert _count(tsdb_session.db) >= len(recent)

    after_1m = tsdb_session.candles("KRW-SYNBTC", "1m", "2019-01-01", "2100-01-01")
    pd.testing.assert_frame_equal(after_1m, before_1m)
    after_1d = tsdb_session.candles("KRW-SYNBTC", "1d", "2019-01-01", "2100-01-01")
    pd.testing.assert_frame_equal(after_1d, before_1d, check_exact=False, rtol=1e-12)
