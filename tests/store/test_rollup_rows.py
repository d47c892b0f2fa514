"""Client-side rollup buckets: chunks in any order, partial buckets merged (values worked out by hand)."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from workbench.store.rollup_rows import RollupRows


def _chunk(minutes: list[int], values: list[tuple[float, float, float, float, float]]) -> pa.Table:
    start = pd.Timestamp("2025-01-01", tz="UTC")
    return pa.table({
        "timestamp": pa.array([start + pd.Timedelta(minutes=m) for m in minutes], pa.timestamp("us", tz="UTC")),
        "open_price": [v[0] for v in values], "high_price": [v[1] for v in values],
        "low_price": [v[2] for v in values], "close_price": [v[3] for v in values],
        "volume": [v[4] for v in values]})


def test_partial_buckets_of_interleaved_unsorted_chunks_merge() -> None:
    rows = RollupRows("KRW-BTC")
    # minute m: open m, high 10+m, low m-10 (minute 2: low -50), close 100+m, volume 1 (minute 4: 0.5)
    rows.add(_chunk([3, 1], [(3, 13, -7, 103, 1), (1, 11, -9, 101, 1)]))
    rows.add(_chunk([4, 0, 2, 7], [(4, 14, -6, 104, 0.5), (0, 10, -10, 100, 1), (2, 12, -50, 102, 1),
                                   (7, 17, -3, 107, 1)]))
    table = rows.table().to_pylist()
    five = [(r["ts"].strftime("%H:%M"), r["open"], r["high"], r["low"], r["close"], r["volume"])
            for r in table if r["timeframe"] == "5m"]
    # 00:00 = minutes 0..4: open of minute 0, high 14, low -50, close of minute 4, volume 4.5
    # 00:05 = minute 7 alone
    assert five == [("00:00", 0.0, 14.0, -50.0, 104.0, 4.5), ("00:05", 7.0, 17.0, -3.0, 107.0, 1.0)]
    day = [(r["open"], r["high"], r["low"], r["close"], r["volume"]) for r in table if r["timeframe"] == "1d"]
    assert day == [(0.0, 17.0, -50.0, 107.0, 5.5)]
    assert {r["symbol"] for r in table} == {"KRW-BTC"}
    assert [r["timeframe"] for r in table].count("15m") == 1


def test_close_comes_from_the_chunk_with_the_latest_minute() -> None:
    rows = RollupRows("KRW-BTC")
    rows.add(_chunk([0, 4], [(1, 2, 0.5, 1.5, 1), (9, 9, 9, 9.5, 1)]))   # minutes 0 and 4
    rows.add(_chunk([2], [(5, 6, 4, 5.5, 1)]))                            # minute 2, in between
    five = [r for r in rows.table().to_pylist() if r["timeframe"] == "5m"]
    assert [(r["open"], r["high"], r["low"], r["close"], r["volume"]) for r in five] == [(1.0, 9.0, 0.5, 9.5, 3.0)]
