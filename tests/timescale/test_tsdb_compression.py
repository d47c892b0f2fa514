"""Writes into compressed chunks: the compression policy job (run by hand: the server has no
background workers) compresses old chunks, and upserts into them still land."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.ingest.sample import generate_sample_candles
from workbench.store.database import Database
from workbench.store.market_data import load_candles
from workbench.store.writer import write_table


def _run_policy(db: Database, proc: str, table: str) -> None:
    with db.begin() as conn:
        job = conn.exec_driver_sql(
            "SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = %s AND hypertable_name = %s",
            (proc, table)).scalar_one()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"CALL run_job({int(job)})")  # the job commits: not in a transaction


def _compressed(db: Database, table: str) -> list[bool]:
    with db.begin() as conn:
        return [bool(r[0]) for r in conn.exec_driver_sql(
            "SELECT is_compressed FROM timescaledb_information.chunks WHERE hypertable_name = %s",
            (table,)).all()]


def test_upsert_into_compressed_chunks(tsdb: Database) -> None:
    frame = generate_sample_candles({"KRW-SYNBTC": 1_000_000.0}, days=10)
    frame = frame[frame.timeframe == "1m"].reset_index(drop=True)
    write_table(tsdb, "candles", frame)
    _run_policy(tsdb, "policy_compression", "candles")
    flags = _compressed(tsdb, "candles")
    assert flags and all(flags)

    changed = frame.iloc[::7].copy()
    changed["close_price"] = changed["close_price"] * 2
    extra = frame.iloc[-1:].copy()
    extra["timestamp"] = extra["timestamp"] + pd.Timedelta(minutes=1)
    result = write_table(tsdb, "candles", pd.concat([changed, extra]))
    assert (result.rows, result.inserted) == (len(changed) + 1, 1)

    want = frame.set_index("timestamp")["close_price"].copy()
    want.iloc[::7] *= 2
    got = load_candles(tsdb, "KRW-SYNBTC", "1m")
    assert len(got) == len(frame) + 1
    np.testing.assert_array_equal(got["close"].iloc[:-1].to_numpy(), want.to_numpy())
