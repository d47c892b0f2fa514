"""Redis cache with the key layout of the schema document; DataFrames travel as Arrow IPC bytes.

Keys::

    candle:{symbol}:{timeframe}:{start}-{end}   Arrow IPC of a loaded frame, TTL 1 h
                                                (start/end: UTC epoch seconds of the half-open range)
    ticker:{symbol}                             JSON, TTL 1 s
    orderbook:{symbol}                          JSON, TTL 1 s
    strategy:{strategy_id}:status               JSON

(The schema document also names ``strategy:{strategy_id}:signals``; nothing here produces live signals,
so that key is not used.)

A cached frame also records the workbench version and the database it came from (``source``): a frame
written by another version, or from another database sharing the same Redis, is treated as a miss.

When Redis cannot be reached the cache warns once and behaves as a miss for 30 s before it tries again,
so loads keep working from the database.
"""

from __future__ import annotations

import json
import time
import warnings
from typing import Any, Final, Protocol, TypeAlias

import pandas as pd
import pyarrow as pa

from workbench._version import __version__

__all__ = [
    "CANDLE_TTL",
    "ORDERBOOK_TTL",
    "TICKER_TTL",
    "CacheUnavailableWarning",
    "FrameCache",
    "JSONValue",
    "NullCache",
    "RedisCache",
    "candle_key",
    "candle_pattern",
    "orderbook_key",
    "strategy_status_key",
    "ticker_key",
]

#: A value as JSON gives it back (objects, arrays, text, numbers, true/false, null).
JSONValue: TypeAlias = "dict[str, JSONValue] | list[JSONValue] | str | int | float | bool | None"

CANDLE_TTL: Final = 3600
TICKER_TTL: Final = 1
ORDERBOOK_TTL: Final = 1
_RETRY_AFTER: Final = 30.0
_VERSION_KEY: Final = b"workbench_version"
_SOURCE_KEY: Final = b"workbench_source"


class CacheUnavailableWarning(RuntimeWarning):
    """Redis could not be reached; data comes from the database instead."""


def candle_key(symbol: str, timeframe: str, start: pd.Timestamp, end: pd.Timestamp) -> str:
    return f"candle:{symbol}:{timeframe}:{int(start.timestamp())}-{int(end.timestamp())}"


def candle_pattern(symbol: str) -> str:
    """Glob of every cached frame of ``symbol`` (all timeframes and ranges)."""
    return f"candle:{symbol}:*"


def ticker_key(symbol: str) -> str:
    return f"ticker:{symbol}"


def orderbook_key(symbol: str) -> str:
    return f"orderbook:{symbol}"


def strategy_status_key(strategy_id: int) -> str:
    return f"strategy:{strategy_id}:status"


def table_to_bytes(table: pa.Table, source: str = "") -> bytes:
    meta = dict(table.schema.metadata or {})
    meta[_VERSION_KEY] = __version__.encode()
    meta[_SOURCE_KEY] = source.encode()
    table = table.replace_schema_metadata(meta)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def table_from_bytes(data: bytes, source: str = "") -> pa.Table | None:
    """Decode Arrow IPC bytes; None if written by another workbench version or from another source."""
    table = pa.ipc.open_stream(pa.py_buffer(data)).read_all()
    meta = table.schema.metadata or {}
    if meta.get(_VERSION_KEY) != __version__.encode() or meta.get(_SOURCE_KEY, b"") != source.encode():
        return None
    return table


class FrameCache(Protocol):
    def get_table(self, key: str) -> pa.Table | None: ...
    def set_table(self, key: str, table: pa.Table, ttl: int = CANDLE_TTL) -> None: ...
    def get_json(self, key: str) -> JSONValue: ...
    def set_json(self, key: str, value: Any, ttl: int | None = None) -> None: ...
    def invalidate(self, pattern: str) -> int: ...


class NullCache:
    """A cache that stores nothing (caching disabled, or in tests of the uncached path)."""

    def get_table(self, key: str) -> pa.Table | None:
        return None

    def set_table(self, key: str, table: pa.Table, ttl: int = CANDLE_TTL) -> None:
        return None

    def get_json(self, key: str) -> JSONValue:
        return None

    def set_json(self, key: str, value: Any, ttl: int | None = None) -> None:
        return None

    def invalidate(self, pattern: str) -> int:
        return 0


class RedisCache:
    """The cache on a ``redis.Redis`` client (built by the caller, never at import).

    ``source`` names the database the cached frames come from (see the module docstring).
    """

    def __init__(self, client: Any, *, source: str = "") -> None:
        self.client = client
        self.source = source
        self._down_until = 0.0
        self.hits = 0
        self.misses = 0

    @classmethod
    def from_url(cls, url: str, *, source: str = "") -> RedisCache:
        import redis

        return cls(redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=2.0), source=source)

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        import redis

        if time.monotonic() < self._down_until:
            return None
        try:
            return fn(*args, **kwargs)
        except (redis.RedisError, OSError) as err:
            self._down_until = time.monotonic() + _RETRY_AFTER
            warnings.warn(f"Redis cache unavailable ({what}: {err}); using the database directly",
                          CacheUnavailableWarning, stacklevel=4)
            return None

    def get_table(self, key: str) -> pa.Table | None:
        data = self._call("get", self.client.get, key)
        table = table_from_bytes(data, self.source) if data else None
        if table is None:
            self.misses += 1
        else:
            self.hits += 1
        return table

    def set_table(self, key: str, table: pa.Table, ttl: int = CANDLE_TTL) -> None:
        self._call("set", self.client.set, key, table_to_bytes(table, self.source), ex=ttl)

    def get_json(self, key: str) -> JSONValue:
        data = self._call("get", self.client.get, key)
        return json.loads(data) if data else None

    def set_json(self, key: str, value: Any, ttl: int | None = None) -> None:
        self._call("set", self.client.set, key, json.dumps(value, default=str), ex=ttl)

    def invalidate(self, pattern: str) -> int:
        """Delete the keys matching ``pattern`` (SCAN, never KEYS); return how many."""

        def scan_delete() -> int:
            n = 0
            batch = []
            for key in self.client.scan_iter(match=pattern, count=500):
                batch.append(key)
                if len(batch) >= 500:
                    n += self.client.delete(*batch)
                    batch.clear()
            if batch:
                n += self.client.delete(*batch)
            return n

        return int(self._call("invalidate", scan_delete) or 0)
