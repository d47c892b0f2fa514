"""Rollup buckets of 1m candles computed on the client, chunk by chunk (the direct write path).

The same buckets and aggregates as ``workbench_maintain_rollups()`` (migration 0005): origin
2000-01-03 00:00 UTC, open of the first minute, close of the last, high/low extremes, summed volume.
Each chunk is reduced to one partial row per bucket; partial rows of one bucket from several chunks
are merged by :meth:`RollupRows.table`. The buckets are exact only where every stored minute of the
bucket was among the rows given; the writer recomputes the buckets at the edges of what it wrote
on the server (see ``rollups_edges_*.sql``).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pyarrow as pa

from workbench.markets import TIMEFRAMES

__all__ = ["ROLLUP_TIMEFRAMES", "RollupRows"]

#: timeframes kept as rollups of 1m candles (migration 0005), each built from the one before it
ROLLUP_TIMEFRAMES: Final[tuple[str, ...]] = ("5m", "15m", "1h", "4h", "1d")
_ORIGIN_US: Final = 946_857_600_000_000   # 2000-01-03 00:00 UTC in microseconds since the epoch
_US: Final = 1_000_000
_SCHEMA: Final = pa.schema([("symbol", pa.string()), ("timeframe", pa.string()),
                            ("ts", pa.timestamp("us", tz="UTC")), ("open", pa.float64()), ("high", pa.float64()),
                            ("low", pa.float64()), ("close", pa.float64()), ("volume", pa.float64())])

# per timeframe, per chunk: bucket start, first and last minute, open, high, low, close, volume
_Part = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _reduce(bucket: np.ndarray, ts: np.ndarray, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray,
            v: np.ndarray, first: np.ndarray | None = None) -> _Part:
    """One row per run of equal ``bucket`` values (rows sorted by bucket, then time)."""
    starts = np.flatnonzero(np.concatenate(([True], bucket[1:] != bucket[:-1])))
    ends = np.concatenate((starts[1:], [len(bucket)])) - 1
    first_ts = ts[starts] if first is None else first[starts]
    return (bucket[starts], first_ts, ts[ends], o[starts], np.maximum.reduceat(h, starts),
            np.minimum.reduceat(lo, starts), c[ends], np.add.reduceat(v, starts))


class RollupRows:
    """Accumulates rollup buckets of one symbol's 1m candles over the chunks of a write."""

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self._parts: dict[str, list[_Part]] = {tf: [] for tf in ROLLUP_TIMEFRAMES}

    def add(self, data: pa.Table) -> None:
        """Add 1m rows (columns ``timestamp``, ``open_price`` ... ``volume``; any order, no key twice)."""
        if data.num_rows == 0:
            return
        ts = data.column("timestamp").cast(pa.timestamp("us", tz="UTC")).to_numpy().view("int64")
        cols = [np.asarray(data.column(name).to_numpy(), dtype="float64")
                for name in ("open_price", "high_price", "low_price", "close_price", "volume")]
        if len(ts) > 1 and not bool(np.all(ts[1:] > ts[:-1])):
            order = np.argsort(ts, kind="stable")
            ts, cols = ts[order], [col[order] for col in cols]
        o, h, lo, c, v = cols
        for tf in ROLLUP_TIMEFRAMES:
            step = TIMEFRAMES[tf] * _US
            bucket = _ORIGIN_US + (ts - _ORIGIN_US) // step * step
            self._parts[tf].append(_reduce(bucket, ts, o, h, lo, c, v))

    def table(self) -> pa.Table:
        """The buckets (``symbol timeframe ts open high low close volume``), partial rows merged."""
        out = []
        for tf, parts in self._parts.items():
            if not parts:
                continue
            bucket, first, last, o, h, lo, c, v = (np.concatenate(x) for x in zip(*parts, strict=True))
            by_first = np.lexsort((first, bucket))      # each bucket's partial rows, earliest first
            merged = _reduce(bucket[by_first], last[by_first], o[by_first], h[by_first], lo[by_first],
                             c[by_first], v[by_first], first=first[by_first])
            by_last = np.lexsort((last, bucket))        # the close is the latest partial row's
            closes = _reduce(bucket[by_last], last[by_last], o[by_last], h[by_last], lo[by_last], c[by_last],
                             v[by_last])[6]
            n = len(merged[0])
            out.append(pa.table([
                pa.array(np.full(n, self.symbol, dtype=object), pa.string()),
                pa.array(np.full(n, tf, dtype=object), pa.string()),
                pa.array(merged[0].astype("datetime64[us]"), pa.timestamp("us", tz="UTC")),
                merged[3], merged[4], merged[5], closes, merged[7]], schema=_SCHEMA))
        return pa.concat_tables(out) if out else _SCHEMA.empty_table()
