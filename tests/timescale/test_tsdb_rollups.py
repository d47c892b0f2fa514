"""Continuous aggregates on TimescaleDB: catalog, refresh policy, loads equal to bucketing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.ingest.sample import generate_sample_candles
from workbench.store.database import Database
from workbench.store.market_data import load_candles
from workbench.store.writer import write_table

RULES = {"5m": "5min", "15m": "15min", "1h": "1h", "4h": "4h", "1d": "24h"}


def _bucketed(db: Database, timeframe: str) -> pd.DataFrame:
    from workbench.core.markets import TIMEFRAMES

    table = db.fetch_arrow("candles_resampled_tsdb", {
        "symbol": "KRW-SYNBTC", "source_timeframe": "1m", "bucket": f"{TIMEFRAMES[timeframe]} seconds",
        "start": pd.Timestamp("2000-01-03", tz="UTC").to_pydatetime(),
        "end": pd.Timestamp("2100-01-01", tz="UTC").to_pydatetime()})
    return table.to_pandas().set_index("ts")


def _rollup(db: Database, timeframe: str) -> pd.DataFrame:
    table = db.fetch_arrow("candles_rollup", {
        "symbol": "KRW-SYNBTC", "timeframe": timeframe,
        "start": pd.Timestamp("2000-01-03", tz="UTC").to_pydatetime(),
        "end": pd.Timestamp("2100-01-01", tz="UTC").to_pydatetime()})
    return table.to_pandas().set_index("ts")


def _run_refresh_policies(db: Database) -> None:
    with db.begin() as conn:
        jobs = [r[0] for r in conn.exec_driver_sql(
            "SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = 'policy_refresh_continuous_aggregate'")]
    assert len(jobs) == len(RULES)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for job in jobs:
            conn.exec_driver_sql(f"CALL run_job({int(job)})")


def _materialize_everything(db: Database) -> None:
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for tf in RULES:
            conn.exec_driver_sql(f"CALL refresh_continuous_aggregate('candle_rollup_{tf}', NULL, NULL)")


def test_continuous_aggregates_and_policies(tsdb: Database) -> None:
    with tsdb.begin() as conn:
        views = {r[0]: r[1] for r in conn.exec_driver_sql(
            "SELECT view_name, materialized_only FROM timescaledb_information.continuous_aggregates").all()}
    assert views == {f"candle_rollup_{tf}": False for tf in RULES}


@pytest.mark.parametrize("timeframe", list(RULES))
def test_rollup_equals_bucketing(tsdb: Database, timeframe: str) -> None:
    frame = generate_sample_candles({"KRW-SYNBTC": 1_000_000.0}, start="2025-01-01 07:13", days=3)
    write_table(tsdb, "candles", frame)
    pd.testing.assert_frame_equal(_rollup(tsdb, timeframe), _bucketed(tsdb, timeframe))
    _run_refresh_policies(tsdb)  # the scheduled refresh (last 7 days) runs
    pd.testing.assert_frame_equal(_rollup(tsdb, timeframe), _bucketed(tsdb, timeframe))
    # minutes written below the materialization: their buckets are refreshed right after the write
    _materialize_everything(tsdb)
    fix = frame.iloc[100:400].copy()
    fix["close_price"] *= 1.1
    write_table(tsdb, "candles", fix)
    pd.testing.assert_frame_equal(_rollup(tsdb, timeframe), _bucketed(tsdb, timeframe))
    loaded = load_candles(tsdb, "KRW-SYNBTC", timeframe)
    pd.testing.assert_frame_equal(loaded, _bucketed(tsdb, timeframe).set_axis(loaded.index), check_freq=False)
    np.testing.assert_array_equal(loaded["close"].to_numpy(), _bucketed(tsdb, timeframe)["close"].to_numpy())
