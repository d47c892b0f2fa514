"""1m rollups on plain PostgreSQL: maintained at write time, equal to bucketing, used by the loader."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.ingest.sample import generate_sample_candles
from workbench.store.database import Database
from workbench.store.market_data import load_candles
from workbench.store.writer import write_table

pytestmark = pytest.mark.db

RULES = {"5m": "5min", "15m": "15min", "1h": "1h", "4h": "4h", "1d": "24h"}


def _by_hand(frame: pd.DataFrame, symbol: str, rule: str) -> pd.DataFrame:
    df = frame[(frame.symbol == symbol) & (frame.timeframe == "1m")].set_index("timestamp").sort_index()
    agg = df.resample(rule, origin=pd.Timestamp("2000-01-03", tz="UTC")).agg(
        {"open_price": "first", "high_price": "max", "low_price": "min", "close_price": "last", "volume": "sum"})
    agg.columns = ["open", "high", "low", "close", "volume"]
    return agg.dropna()


def _rollups(db: Database, symbol: str, timeframe: str) -> pd.DataFrame:
    with db.begin() as conn:
        rows = conn.exec_driver_sql(
            "SELECT ts, open, high, low, close, volume FROM candle_rollups WHERE symbol = %s AND timeframe = %s "
            "ORDER BY ts", (symbol, timeframe)).all()
    return pd.DataFrame(rows, columns=["ts", "open", "high", "low", "close", "volume"]).set_index("ts")


def _assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.index) == list(want.index)
    np.testing.assert_array_equal(got[["open", "high", "low", "close"]].to_numpy(),
                                  want[["open", "high", "low", "close"]].to_numpy())
    np.testing.assert_allclose(got["volume"].to_numpy(), want["volume"].to_numpy(), rtol=1e-12)


@pytest.fixture
def minutes(db: Database) -> pd.DataFrame:
    frame = generate_sample_candles({"KRW-SYNBTC": 1_000_000.0, "KRW-SYNETH": 50_000.0},
                                    start="2025-01-01 07:13", days=3)
    write_table(db, "candles", frame)
    return frame


@pytest.mark.parametrize("timeframe", list(RULES))
def test_rollups_are_written_with_the_candles(db: Database, minutes: pd.DataFrame, timeframe: str) -> None:
    for symbol in ("KRW-SYNBTC", "KRW-SYNETH"):
        _assert_same(_rollups(db, symbol, timeframe), _by_hand(minutes, symbol, RULES[timeframe]))


def test_rewrite_of_some_minutes_updates_their_buckets(db: Database, minutes: pd.DataFrame) -> None:
    changed = minutes.copy()
    pick = (changed.symbol == "KRW-SYNBTC") & changed.timestamp.between(
        pd.Timestamp("2025-01-02 03:00", tz="UTC"), pd.Timestamp("2025-01-02 05:30", tz="UTC"))
    changed.loc[pick, "high_price"] *= 1.5
    changed.loc[pick, "close_price"] *= 1.2
    write_table(db, "candles", changed[pick])
    for tf, rule in RULES.items():
        _assert_same(_rollups(db, "KRW-SYNBTC", tf), _by_hand(changed, "KRW-SYNBTC", rule))
    _assert_same(_rollups(db, "KRW-SYNETH", "1h"), _by_hand(minutes, "KRW-SYNETH", "1h"))


def test_loader_reads_the_rollups_and_falls_back_to_bucketing(db: Database, minutes: pd.DataFrame) -> None:
    want = _by_hand(minutes, "KRW-SYNBTC", "1h")
    _assert_same(load_candles(db, "KRW-SYNBTC", "1h"), want)
    with db.begin() as conn:  # a marker only the rollup table carries: proves where the loader reads
        conn.exec_driver_sql("UPDATE candle_rollups SET close = -1 WHERE symbol = 'KRW-SYNBTC' AND timeframe = '1h' "
                             "AND ts = '2025-01-02 00:00+00'")
    assert load_candles(db, "KRW-SYNBTC", "1h").loc["2025-01-02 00:00", "close"] == -1
    with db.begin() as conn:  # no rollup rows: bucketing on the server, same result
        conn.exec_driver_sql("DELETE FROM candle_rollups WHERE symbol = 'KRW-SYNBTC' AND timeframe = '1h'")
    _assert_same(load_candles(db, "KRW-SYNBTC", "1h"), want)
    # a timeframe without rollups (30m) is bucketed
    _assert_same(load_candles(db, "KRW-SYNBTC", "30m"), _by_hand(minutes, "KRW-SYNBTC", "30min"))
