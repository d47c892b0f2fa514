"""Redis cache with the key layout of the schema document; frames travel in a compact column format.

Keys::

    candle:{symbol}:{timeframe}:{start}-{end}:v{version}@{source}
                                                a loaded frame (format below), TTL 1 h
                                                (start/end: UTC epoch seconds of the half-open range;
                                                version: the symbol's data version; source: which
                                                database)
    ticker:{symbol}                             JSON, TTL 1 s
    orderbook:{symbol}                          JSON, TTL 1 s
    strategy:{strategy_id}:status               JSON

(The schema document also names ``strategy:{strategy_id}:signals``; nothing here produces live signals,
so that key is not used.)

A frame value is ``MAC (32 bytes) + tag + body``. Tag ``WBF2C``: the compact column format of
:mod:`workbench.store.frame_codec` (timestamps and float64 columns as delta-coded integers, packed
narrow, zstd): the benchmark's 500,000 1m candles (22.9 MiB of columns) take 6.2 MiB against
17.5 MiB as lz4 Arrow IPC, and decoding costs a few vectorised passes per column (see
``benchmarks/README.md``). Tag ``WBF2A``: lz4 Arrow IPC, for the
tables that format does not take (nulls, other column types). Values of earlier formats (a bare
Arrow stream) have neither tag: they are logged, deleted misses.

Integrity: a frame is keyed by its symbol's **data version**, which every write that changes candles
bumps in its own transaction (``data_versions``), so a load never returns a frame older than the
database, whether or not the writer could reach Redis. Every frame is sealed with an HMAC-SHA256
over key and bytes, with a random secret that lives in the database (``workbench_secrets``): a
value that does not verify or decode (forged, truncated, written by another workbench version) is
deleted, logged and treated as a miss, never an error. JSON values (tickers, order books, 1 s) stay
plain JSON as the schema document specifies; an undecodable one is likewise a logged, deleted miss.
:class:`TieredCache` adds a small in-process tier (same keys) in front of Redis.

When Redis cannot be reached the cache warns once and behaves as a miss for 30 s before it tries again,
so loads keep working from the database.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, Protocol, TypeVar

import pandas as pd
import pyarrow as pa

from workbench._version import __version__
from workbench.core.jsontypes import JSONValue
from workbench.errors import ValidationError
from workbench.store.frame_codec import decode_columns, encode_columns

if TYPE_CHECKING:
    from redis import Redis

_T = TypeVar("_T")

__all__ = [
    "CANDLE_TTL",
    "ORDERBOOK_TTL",
    "TICKER_TTL",
    "CacheUnavailableWarning",
    "FrameCache",
    "JSONValue",
    "NullCache",
    "RedisCache",
    "TieredCache",
    "candle_key",
    "candle_pattern",
    "orderbook_key",
    "strategy_status_key",
    "ticker_key",
]


CANDLE_TTL: Final = 3600
TICKER_TTL: Final = 1
ORDERBOOK_TTL: Final = 1
_RETRY_AFTER: Final = 30.0
#: first bytes of a frame value (after the MAC): the format and its version; other values are misses
_COLUMNS_MAGIC: Final = b"WBF2C"
_IPC_MAGIC: Final = b"WBF2A"
_MAC_SIZE: Final = 32
_IPC_OPTIONS: Final = {"compression": "lz4"}
_READ_SIZE: Final = 1 << 20

log = logging.getLogger(__name__)


class CacheUnavailableWarning(RuntimeWarning):
    """Redis could not be reached; data comes from the database instead."""


def candle_key(symbol: str, timeframe: str, start: pd.Timestamp, end: pd.Timestamp, version: int = 0,
               source: str = "") -> str:
    """Key of a loaded frame; ``version`` is the symbol's data version, ``source`` the database's tag."""
    key = f"candle:{symbol}:{timeframe}:{int(start.timestamp())}-{int(end.timestamp())}:v{version}"
    return f"{key}@{source}" if source else key


def candle_pattern(symbol: str) -> str:
    """Glob of every cached frame of ``symbol`` (all timeframes and ranges)."""
    return f"candle:{symbol}:*"


def ticker_key(symbol: str) -> str:
    return f"ticker:{symbol}"


def orderbook_key(symbol: str) -> str:
    return f"orderbook:{symbol}"


def strategy_status_key(strategy_id: int) -> str:
    return f"strategy:{strategy_id}:status"


def _mac(key: str, payload: bytes | memoryview, secret: bytes) -> bytes:
    mac = hmac.new(secret, key.encode() + b"\0", hashlib.sha256)
    mac.update(payload)  # no copy of the (large) payload
    return mac.digest()


def seal(key: str, payload: bytes, secret: bytes) -> bytes:
    """``HMAC-SHA256(secret, key NUL payload) + payload``: binds the bytes to their key."""
    return _mac(key, payload, secret) + payload


def unseal(key: str, data: bytes, secret: bytes) -> memoryview | None:
    """The payload of a sealed value (a view, not a copy), or None when it does not verify."""
    if len(data) < _MAC_SIZE:
        return None
    view = memoryview(data)
    payload = view[_MAC_SIZE:]
    return payload if hmac.compare_digest(bytes(view[:_MAC_SIZE]), _mac(key, payload, secret)) else None


def table_to_bytes(table: pa.Table, source: str = "") -> bytes:
    """The cached form of ``table``: the compact column format (:mod:`workbench.store.frame_codec`),
    or Arrow IPC (lz4) for a table that format does not handle (nulls, other column types)."""
    meta = {"workbench_version": __version__, "workbench_source": source}
    compact = encode_columns(table, meta)
    if compact is not None:
        return _COLUMNS_MAGIC + compact
    schema_meta = dict(table.schema.metadata or {})
    schema_meta.update({k.encode(): v.encode() for k, v in meta.items()})
    table = table.replace_schema_metadata(schema_meta)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=pa.ipc.IpcWriteOptions(**_IPC_OPTIONS)) as writer:
        writer.write_table(table)
    data: bytes = sink.getvalue().to_pybytes()   # pyarrow is untyped
    return _IPC_MAGIC + data


def table_from_bytes(data: bytes | memoryview, source: str = "") -> pa.Table | None:
    """Decode :func:`table_to_bytes`; None if written by another workbench version or from another source.

    Raises ValueError (or a ``pyarrow.ArrowException``) for bytes that are not such a value, among
    them the values of earlier cache formats.
    """
    view = memoryview(data)
    magic = bytes(view[:len(_COLUMNS_MAGIC)])
    if magic == _COLUMNS_MAGIC:
        table, meta = decode_columns(view[len(_COLUMNS_MAGIC):])
    elif magic == _IPC_MAGIC:
        table = pa.ipc.open_stream(pa.py_buffer(view[len(_IPC_MAGIC):])).read_all()
        meta = {k.decode(errors="replace"): v.decode(errors="replace")
                for k, v in (table.schema.metadata or {}).items()}
    else:
        raise ValidationError("not a workbench frame of this cache format")
    if meta.get("workbench_version") != __version__ or meta.get("workbench_source", "") != source:
        return None
    return table


class FrameCache(Protocol):
    def get_table(self, key: str) -> pa.Table | None: ...
    def set_table(self, key: str, table: pa.Table, ttl: int = CANDLE_TTL) -> None: ...
    def get_json(self, key: str) -> JSONValue: ...
    def set_json(self, key: str, value: object, ttl: int | None = None) -> None: ...
    def invalidate(self, pattern: str) -> int: ...
    @property
    def redis(self) -> Redis | None:
        """The ``redis.Redis`` client behind this cache (through its tiers), None without one."""


class NullCache:
    """A cache that stores nothing (caching disabled, or in tests of the uncached path)."""

    def get_table(self, key: str) -> pa.Table | None:
        return None

    def set_table(self, key: str, table: pa.Table, ttl: int = CANDLE_TTL) -> None:
        return None

    def get_json(self, key: str) -> JSONValue:
        return None

    def set_json(self, key: str, value: object, ttl: int | None = None) -> None:
        return None

    def invalidate(self, pattern: str) -> int:
        return 0

    @property
    def redis(self) -> None:
        return None


class RedisCache:
    """The cache on a ``redis.Redis`` client (built by the caller, never at import).

    ``source`` names the database the cached frames come from; ``secret`` is the HMAC key of the
    values (see the module docstring). Without a secret a random one is made for this object, so
    only its own values verify.
    """

    def __init__(self, client: Redis, *, source: str = "", secret: bytes | None = None) -> None:
        self.client = client
        self.source = source
        self._secret = secret if secret is not None else secrets.token_bytes(32)
        self._down_until = 0.0
        self.hits = 0
        self.misses = 0
        self.rejected = 0

    @property
    def redis(self) -> Redis:
        """The ``redis.Redis`` client this cache is on."""
        return self.client

    def __repr__(self) -> str:
        from workbench.core.redact import mask_url

        kwargs = getattr(getattr(self.client, "connection_pool", None), "connection_kwargs", {})
        where = f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"
        return f"RedisCache({mask_url('redis://' + where)}, source={self.source!r})"

    @classmethod
    def from_url(cls, url: str, *, source: str = "", secret: bytes | None = None) -> RedisCache:
        import redis

        # socket_read_size: redis-py reads a reply in recv() calls of this size (64 KiB by default); a cached
        # frame is several MiB: 1 MiB reads make a GET of it ~7 calls instead of ~100
        return cls(redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=2.0,
                                        socket_read_size=_READ_SIZE), source=source, secret=secret)

    def _drop(self, key: str, why: str) -> None:
        """A value that cannot be trusted: delete it (best effort), log it, count it."""
        self.rejected += 1
        log.warning("cache value %s dropped: %s", key, why)
        self._call("delete", self.client.delete, key)

    def _call(self, what: str, fn: Callable[..., _T], *args: object, **kwargs: object) -> _T | None:
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
        table = self._decode(key, data) if isinstance(data, bytes) and data else None   # bytes: no decode_responses
        if table is None:
            self.misses += 1
        else:
            self.hits += 1
        return table

    def _decode(self, key: str, data: bytes) -> pa.Table | None:
        payload = unseal(key, data, self._secret)
        if payload is None:
            self._drop(key, "integrity check failed (not written by this database's workbench)")
            return None
        try:
            table = table_from_bytes(payload, self.source)
        except (pa.ArrowException, ValueError, KeyError, TypeError, OSError) as err:
            self._drop(key, f"not a readable frame ({type(err).__name__}: {err})")
            return None
        if table is None:
            self._drop(key, "written by another workbench version or database")
        return table

    def set_table(self, key: str, table: pa.Table, ttl: int = CANDLE_TTL) -> None:
        self._call("set", self.client.set, key, seal(key, table_to_bytes(table, self.source), self._secret), ex=ttl)

    def get_json(self, key: str) -> JSONValue:
        """A JSON value (plain JSON, as the schema document specifies for tickers/order books, so
        other readers can use it); an undecodable value is a logged, deleted miss."""
        data = self._call("get", self.client.get, key)
        if not data:
            return None
        try:
            value: JSONValue = json.loads(data)
            return value
        except (ValueError, UnicodeDecodeError) as err:
            self._drop(key, f"not a readable JSON value ({err})")
            return None

    def set_json(self, key: str, value: object, ttl: int | None = None) -> None:
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


class TieredCache:
    """A small in-process tier (LRU, bounded in bytes) in front of another cache, same keys.

    Frames are found here without decoding; keys carry the data version, so an entry can only be
    out of date if the key is (and then it is never asked for again). JSON values (1 s tickers)
    go straight to the inner cache.
    """

    def __init__(self, inner: FrameCache, *, max_bytes: int = 256 << 20) -> None:
        self.inner = inner
        self.max_bytes = max_bytes
        self._tables: OrderedDict[str, pa.Table] = OrderedDict()
        self._frames: dict[str, pd.DataFrame] = {}   # pandas forms of some of the tables (same keys)
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0

    @property
    def source(self) -> str:
        """The inner cache's database tag (part of the keys)."""
        return str(getattr(self.inner, "source", ""))

    @property
    def redis(self) -> Redis | None:
        """The inner cache's Redis client (None when it has none)."""
        return self.inner.redis

    def __repr__(self) -> str:
        return f"TieredCache({len(self._tables)} frames, {self._bytes / 2**20:.1f} MiB, inner={self.inner!r})"

    def get_table(self, key: str) -> pa.Table | None:
        with self._lock:
            table = self._tables.get(key)
            if table is not None:
                self._tables.move_to_end(key)
                self.hits += 1
                return table
        table = self.inner.get_table(key)
        if table is not None:
            self._remember(key, table)
        return table

    def pandas_frame(self, key: str, table: pa.Table, build: Callable[[pa.Table], pd.DataFrame]) -> pd.DataFrame:
        """``build(table)`` for the table this tier holds under ``key``, built once and kept with it.

        Each call returns a shallow copy: pandas' copy-on-write copies a column when the caller changes
        it, so the kept frame never changes (raw numpy views of it are read-only). A table this tier
        does not hold (too large, or another object) is built anew."""
        with self._lock:
            if self._tables.get(key) is not table:
                frame = None
            else:
                frame = self._frames.get(key)
        if frame is None:
            frame = build(table)
            with self._lock:
                if self._tables.get(key) is not table or key in self._frames:
                    return frame
                self._frames[key] = frame
                self._bytes += self._frame_bytes(frame)
                self._evict()
        return frame.copy(deep=False)

    @staticmethod
    def _frame_bytes(frame: pd.DataFrame) -> int:
        return int(frame.memory_usage(index=True, deep=False).sum())

    def _forget(self, key: str) -> None:
        """Drop ``key``'s table and frame (lock held)."""
        table = self._tables.pop(key, None)
        if table is not None:
            self._bytes -= table.nbytes
        frame = self._frames.pop(key, None)
        if frame is not None:
            self._bytes -= self._frame_bytes(frame)

    def _evict(self) -> None:
        while self._bytes > self.max_bytes and self._tables:
            self._forget(next(iter(self._tables)))

    def _remember(self, key: str, table: pa.Table) -> None:
        size = table.nbytes
        if size > self.max_bytes:
            return
        with self._lock:
            self._forget(key)
            self._tables[key] = table
            self._bytes += size
            self._evict()

    def set_table(self, key: str, table: pa.Table, ttl: int = CANDLE_TTL) -> None:
        self._remember(key, table)
        self.inner.set_table(key, table, ttl)

    def get_json(self, key: str) -> JSONValue:
        return self.inner.get_json(key)

    def set_json(self, key: str, value: object, ttl: int | None = None) -> None:
        self.inner.set_json(key, value, ttl)

    def invalidate(self, pattern: str) -> int:
        with self._lock:
            gone = [k for k in self._tables if fnmatch.fnmatchcase(k, pattern)]
            for k in gone:
                self._forget(k)
        return self.inner.invalidate(pattern) + len(gone)
