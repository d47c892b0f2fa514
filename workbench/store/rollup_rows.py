"""Rollup buckets of 1m candles computed on the client, one chunk at a time (the direct write path).

The same buckets and aggregates as ``workbench_maintain_rollups()`` (migration 0005): origin
2000-01-03 00:00 UTC, open of the first minute, close of the last, high/low extremes, summed volume.
Only a chunk's *interior* buckets are returned -- those that hold neither its first nor its last
minute. When the chunks' time ranges do not overlap one another and held no stored candle (what
the direct path checks), every minute of an interior bucket is in the chunk, so the bucket is
final; the buckets that hold a chunk's first or last minute are recomputed on the server.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pyarrow as pa

from workbench.core.markets import TIMEFRAMES

__all__ = ["ROLLUP_TIMEFRAMES", "interior_buckets"]

#: timeframes kept as rollups of 1m candles (migration 0005), each built from the one before it
ROLLUP_TIMEFRAMES: Final[tuple[str, ...]] = ("5m", "15m", "1h", "4h", "1d")
_ORIGIN_US: Final = 946_857_600_000_000   # 2000-01-03 00:00 UTC in microseconds since the epoch
_US: Final = 1_000_000
_TS: Final = pa.timestamp("us", tz="UTC")
SCHEMA: Final = pa.schema([("symbol", pa.string()), ("timeframe", pa.string()), ("ts", _TS), ("open", pa.float64()),
                           ("high", pa.float64()), ("low", pa.float64()), ("close", pa.float64()),
                           ("volume", pa.float64())])


def interior_buckets(symbol: str, data: pa.Table) -> pa.Table:
    """The rollup buckets (``symbol timeframe ts open high low close volume``) of 1m rows ``data``
    (columns ``timestamp``, ``open_price`` ... ``volume``; any order, no timestamp twice) that hold
    neither the first nor the last of its minutes."""
    if data.num_rows == 0:
        return SCHEMA.empty_table()
    ts = data.column("timestamp").cast(_TS).to_numpy().view("int64")
    cols = [np.asarray(data.column(name).to_numpy(), dtype="float64")
            for name in ("open_price", "high_price", "low_price", "close_price", "volume")]
    if len(ts) > 1 and not bool(np.all(ts[1:] > ts[:-1])):
        order = np.argsort(ts, kind="stable")
        ts, cols = ts[order], [col[order] for col in cols]
    o, h, lo, c, v = cols
    parts = []
    for tf in ROLLUP_TIMEFRAMES:
        step = TIMEFRAMES[tf] * _US
        bucket = _ORIGIN_US + (ts - _ORIGIN_US) // step * step
        starts = np.flatnonzero(np.concatenate(([True], bucket[1:] != bucket[:-1])))
        ends = np.concatenate((starts[1:], [len(bucket)])) - 1
        keep = (bucket[starts] != bucket[0]) & (bucket[starts] != bucket[-1])
        if not keep.any():
            continue
        n = int(keep.sum())
        parts.append(pa.table([
            pa.array([symbol] * n, pa.string()), pa.array([tf] * n, pa.string()),
            pa.array(bucket[starts][keep].astype("datetime64[us]"), _TS),
            o[starts][keep], np.maximum.reduceat(h, starts)[keep], np.minimum.reduceat(lo, starts)[keep],
            c[ends][keep], np.add.reduceat(v, starts)[keep]], schema=SCHEMA))
    return pa.concat_tables(parts) if parts else SCHEMA.empty_table()

