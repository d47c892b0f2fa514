"""Client-side rollup buckets of a chunk: only the interior ones (values worked out by hand)."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from workbench.store.rollup_rows import interior_buckets

START = pd.Timestamp("2025-01-01 23:50", tz="UTC")


def _chunk(minutes: list[int], values: dict[int, tuple[float, float, float, float, float]]) -> pa.Table:
    """Minute m after 23:50: open m, high 10+m, low m-10, close 100+m, volume 1 unless in ``values``."""
    rows = [values.get(m, (m, 10 + m, m - 10, 100 + m, 1)) for m in minutes]
    return pa.table({
        "timestamp": pa.array([START + pd.Timedelta(minutes=m) for m in minutes], pa.timestamp("us", tz="UTC")),
        "open_price": [float(r[0]) for r in rows], "high_price": [float(r[1]) for r in rows],
        "low_price": [float(r[2]) for r in rows], "close_price": [float(r[3]) for r in rows],
        "volume": [float(r[4]) for r in rows]})


def _rows(table: pa.Table) -> list[tuple[object, ...]]:
    return [(r["timeframe"], r["ts"].strftime("%H:%M"), r["open"], r["high"], r["low"], r["close"], r["volume"])
            for r in table.to_pylist()]


def test_unsorted_chunk_gives_only_buckets_without_its_first_or_last_minute() -> None:
    # minutes 0..8 and 10 (23:50 .. 23:58, 00:00) in no order; minute 6: high 50, low -50, volume 0.5
    chunk = _chunk([3, 1, 8, 0, 2, 10, 4, 6, 5, 7], {6: (6, 50, -50, 106, 0.5)})
    # 5m 23:50 holds the first minute and 5m 00:00 the last: left out. 5m 23:55 = minutes 5..8:
    # open 5, high 50 (minute 6), low -50, close 108 (minute 8), volume 1 + 0.5 + 1 + 1
    # 15m 23:45 holds the first minute, 15m 00:00 the last; every longer bucket holds one of them
    assert _rows(interior_buckets("KRW-BTC", chunk)) == [("5m", "23:55", 5.0, 50.0, -50.0, 108.0, 3.5)]
    assert set(interior_buckets("KRW-BTC", chunk).column("symbol").to_pylist()) == {"KRW-BTC"}


def test_a_longer_chunk_gives_interior_buckets_of_every_timeframe() -> None:
    # minutes 0..39 = 23:50 .. 00:29 (volume 1 each)
    rows = _rows(interior_buckets("KRW-BTC", _chunk(list(range(40)), {})))
    # 5m: 23:55 .. 00:20 (six buckets, 23:50 and 00:25 hold the ends); 15m: 00:00 (minutes 10..24)
    assert [r[1] for r in rows if r[0] == "5m"] == ["23:55", "00:00", "00:05", "00:10", "00:15", "00:20"]
    assert [r for r in rows if r[0] == "15m"] == [("15m", "00:00", 10.0, 34.0, 0.0, 124.0, 15.0)]
    assert [r for r in rows if r[0] == "5m"][1] == ("5m", "00:00", 10.0, 24.0, 0.0, 114.0, 5.0)
    assert {r[0] for r in rows} == {"5m", "15m"}
