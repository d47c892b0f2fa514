"""The harness itself: migrations on TimescaleDB, the catalog they leave, single-connection mode."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from workbench.store.database import Database
from workbench.store.migrations import migration_status
from workbench.store.writer import write_table

HYPERTABLES = {"candles", "technical_indicators", "tickers", "orderbooks", "transactions"}


def test_migrations_make_hypertables(tsdb: Database) -> None:
    status = migration_status(tsdb)
    assert status.timescaledb and status.up_to_date and not status.changed
    with tsdb.begin() as conn:
        tables = {r[0] for r in conn.exec_driver_sql(
            "SELECT hypertable_name FROM timescaledb_information.hypertables").all()}
        seg = dict(conn.exec_driver_sql(
            "SELECT hypertable_name, string_agg(attname, ', ' ORDER BY segmentby_column_index) "
            "FROM timescaledb_information.compression_settings WHERE segmentby_column_index IS NOT NULL "
            "GROUP BY 1").all())
        orderby = {r[0] for r in conn.exec_driver_sql(
            "SELECT hypertable_name FROM timescaledb_information.compression_settings "
            "WHERE attname = 'timestamp' AND orderby_column_index = 1").all()}
    assert HYPERTABLES <= tables
    assert seg["candles"] == "symbol, timeframe"
    assert seg["transactions"] == "symbol"
    assert HYPERTABLES <= orderby


def test_single_connection_write_and_read(tsdb: Database) -> None:
    ts = pd.date_range("2025-01-01", periods=12_000, freq="1min", tz="UTC")  # > one staging batch
    frame = pd.DataFrame({"symbol": "KRW-BTC", "timeframe": "1m", "timestamp": ts, "open_price": 1.0,
                          "high_price": 2.0, "low_price": 0.5, "close_price": range(12_000), "volume": 3.0})
    frame["close_price"] = frame["close_price"].astype(float)
    result = write_table(tsdb, "candles", frame)
    assert (result.rows, result.inserted) == (12_000, 12_000)
    again = write_table(tsdb, "candles", frame)  # idempotent, and the staging table did not leak
    assert (again.rows, again.inserted) == (12_000, 0)
    table = tsdb.fetch_arrow("candles", {"symbol": "KRW-BTC", "timeframe": "1m", "start": ts[0].to_pydatetime(),
                                         "end": ts[-1].to_pydatetime()})
    assert table.num_rows == 11_999
    assert table.column("close").to_pylist() == [float(i) for i in range(11_999)]


def test_single_connection_mode_opens_one_connection_at_a_time(tsdb: Database) -> None:
    # On this server a second simultaneous connection would wait in pglite-socket's queue forever:
    # an ADBC read after an engine transaction only works if the first was really closed.
    for _ in range(3):
        with tsdb.begin() as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
        assert tsdb.fetch_arrow("has_timescaledb", {}).column(0).to_pylist() == [True]
    assert isinstance(tsdb.engine.pool, sa.pool.NullPool)
    assert tsdb._adbc_conn is None


def test_jobs_are_registered(tsdb: Database) -> None:
    with tsdb.begin() as conn:
        jobs = conn.exec_driver_sql(
            "SELECT proc_name, hypertable_name, schedule_interval, config::text "
            "FROM timescaledb_information.jobs").all()
    assert HYPERTABLES <= {r[1] for r in jobs if r[0] == "policy_compression"}
    # the stock retention policies (which dropped unarchived history) are replaced by one job
    assert not [r for r in jobs if r[0] == "policy_retention"]
    retention = [r for r in jobs if r[0] == "workbench_archived_retention"]
    assert len(retention) == 1 and '"keep": "30 days"' in retention[0][3]
