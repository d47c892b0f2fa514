"""Bars from trades on plain PostgreSQL when many trades share a timestamp: open/close follow
(timestamp, id), checked against pandas (the TimescaleDB twin is checked in tests/timescale)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.store.database import Database
from workbench.store.market_data import candles_from_transactions
from workbench.store.writer import write_table

pytestmark = pytest.mark.db


def test_ties_on_timestamps_break_by_id(db: Database) -> None:
    rng = np.random.default_rng(11)
    n = 2_000
    seconds = rng.integers(0, 2 * 3600, size=n // 5)  # five trades per distinct second on average
    ts = pd.to_datetime("2025-01-06", utc=True) + pd.to_timedelta(rng.choice(seconds, size=n), unit="s")
    price = np.round(1_000 + rng.normal(0, 5, size=n).cumsum(), 1)
    trades = pd.DataFrame({"symbol": "KRW-SYNBTC", "timestamp": ts, "price": price, "quantity": 1.0,
                           "value": price, "side": "bid", "bithumb_tx_id": [f"t{i}" for i in range(n)]})
    write_table(db, "transactions", trades)
    with db.begin() as conn:
        stored = pd.DataFrame(conn.exec_driver_sql("SELECT id, timestamp, price FROM transactions").all(),
                              columns=["id", "timestamp", "price"])
    assert stored["timestamp"].duplicated().sum() > 1_000
    g = stored.sort_values(["timestamp", "id"], kind="mergesort").set_index("timestamp").resample(
        "1min", origin=pd.Timestamp("2000-01-03", tz="UTC"))["price"]
    want = pd.DataFrame({"open": g.first(), "close": g.last(), "n": g.count()})
    want = want[want["n"] > 0]
    got = candles_from_transactions(db, "KRW-SYNBTC", "1m")
    assert list(got.index) == list(want.index)
    np.testing.assert_array_equal(got["open"].to_numpy(), want["open"].to_numpy())
    np.testing.assert_array_equal(got["close"].to_numpy(), want["close"].to_numpy())
