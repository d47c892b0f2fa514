"""Every *_tsdb.sql against its date_bin twin on the same rows of the same TimescaleDB server, and
the loaders on TimescaleDB (which pick the *_tsdb queries)."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from _data import bars_by_hand, shared_timestamp_trades

from workbench.ingest.sample import generate_sample_candles
from workbench.store.database import Database
from workbench.store.market_data import ARROW, Frames, candles_from_transactions, load_candles
from workbench.store.writer import write_table

START, END = pd.Timestamp("2025-01-01", tz="UTC"), pd.Timestamp("2025-02-01", tz="UTC")


def _tsdb_queries() -> list[str]:
    folder = resources.files("workbench.store") / "schema" / "queries"
    return sorted(p.name[: -len("_tsdb.sql")] for p in folder.iterdir() if p.name.endswith("_tsdb.sql"))


def _params(name: str, bucket: str) -> dict[str, object]:
    params: dict[str, object] = {"symbol": "KRW-SYNBTC", "start": START.to_pydatetime(),
                                 "end": END.to_pydatetime(), "bucket": bucket}
    if name == "candles_resampled":
        params["source_timeframe"] = "1m"
    return params


def test_every_tsdb_query_is_covered() -> None:
    assert _tsdb_queries() == ["candles_from_transactions", "candles_resampled"]


@pytest.mark.parametrize("name", _tsdb_queries())
@pytest.mark.parametrize("bucket", ["60 seconds", "300 seconds", "3600 seconds", "86400 seconds"])
def test_tsdb_query_equals_date_bin_twin(tsdb: Database, name: str, bucket: str) -> None:
    write_table(tsdb, "candles", generate_sample_candles({"KRW-SYNBTC": 1_000_000.0}, days=2))
    write_table(tsdb, "transactions", shared_timestamp_trades())
    plain = tsdb.fetch_arrow(name, _params(name, bucket))
    tsdb_ = tsdb.fetch_arrow(f"{name}_tsdb", _params(name, bucket))
    assert plain.num_rows > 0
    assert tsdb_.equals(plain), f"{name}_tsdb differs from {name} at {bucket}"


def test_tie_break_by_id_on_shared_timestamps(tsdb: Database) -> None:
    """The bug of issue 7: first/last(price, timestamp) picked an arbitrary trade among those sharing
    the bar's first/last timestamp; open and close must follow (timestamp, id) like ORDER BY."""
    trades = shared_timestamp_trades()
    assert trades["timestamp"].duplicated().sum() > 1_000  # the data really has ties
    write_table(tsdb, "transactions", trades)
    with tsdb.begin() as conn:
        stored = pd.DataFrame(conn.exec_driver_sql(
            "SELECT id, timestamp, price, quantity, value FROM transactions").all(),
            columns=["id", "timestamp", "price", "quantity", "value"])
    want = bars_by_hand(stored, "1min")
    got = candles_from_transactions(tsdb, "KRW-SYNBTC", "1m", START, END)
    assert list(got.index) == list(want.index)
    np.testing.assert_array_equal(got["open"].to_numpy(), want["open"].to_numpy())
    np.testing.assert_array_equal(got["close"].to_numpy(), want["close"].to_numpy())
    np.testing.assert_array_equal(got["trades"].to_numpy(), want["trades"].to_numpy())
    np.testing.assert_allclose(got[["high", "low", "volume", "vwap"]].to_numpy(),
                               want[["high", "low", "volume", "vwap"]].to_numpy(), rtol=1e-12)


def test_loaders_on_timescaledb(tsdb: Database) -> None:
    frame = generate_sample_candles({"KRW-SYNBTC": 1_000_000.0}, days=2)
    write_table(tsdb, "candles", frame)
    raw = load_candles(tsdb, "KRW-SYNBTC", "1m")
    assert len(raw) == len(frame[frame.timeframe == "1m"])
    hourly = Frames(tsdb, ARROW).candles("KRW-SYNBTC", "1h")
    assert isinstance(hourly, pa.Table) and hourly.num_rows == 48
    src = frame[frame.timeframe == "1m"].set_index("timestamp")
    want = src.resample("1h", origin=pd.Timestamp("2000-01-03", tz="UTC")).agg(
        {"open_price": "first", "high_price": "max", "low_price": "min", "close_price": "last", "volume": "sum"})
    np.testing.assert_allclose(
        np.column_stack([hourly.column(c).to_numpy() for c in ("open", "high", "low", "close", "volume")]),
        want.to_numpy(), rtol=1e-12)
