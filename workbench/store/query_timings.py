"""The workbench's own query timings: calls, total and longest time of each named query (the ``.sql`` files),
for ``workbench monitor`` when the server has no ``pg_stat_statements``.

:class:`QueryTimings` counts in memory (one per :class:`~workbench.store.database.Database`; SQLAlchemy's
cursor events and :meth:`Database.fetch_arrow` feed it). With a Redis client attached it adds what it
counted to the HASH ``query_timings`` every ``flush_every`` seconds and when flushed explicitly, so the
figures of every process add up; the summary is bounded (one entry per named query). ``DEL
query_timings`` starts the count again.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import pandas as pd

if TYPE_CHECKING:
    import redis

__all__ = ["TIMINGS_KEY", "QueryTimings", "read_timings", "timings_frame"]

TIMINGS_KEY: Final = "query_timings"

# ARGV: name, calls, total_ms, max_ms (repeated); fields {name}|calls, {name}|total_ms, {name}|max_ms
_ADD: Final = """
for i = 1, #ARGV, 4 do
  local n = ARGV[i]
  redis.call('HINCRBY', KEYS[1], n .. '|calls', ARGV[i + 1])
  redis.call('HINCRBYFLOAT', KEYS[1], n .. '|total_ms', ARGV[i + 2])
  local old = tonumber(redis.call('HGET', KEYS[1], n .. '|max_ms') or '0')
  if tonumber(ARGV[i + 3]) > old then redis.call('HSET', KEYS[1], n .. '|max_ms', ARGV[i + 3]) end
end
return #ARGV / 4
"""


@dataclass(slots=True)
class _Entry:
    calls: int = 0
    total_ms: float = 0.0
    max_ms: float = 0.0

    def add(self, calls: int, total_ms: float, max_ms: float) -> None:
        self.calls += calls
        self.total_ms += total_ms
        self.max_ms = max(self.max_ms, max_ms)


class QueryTimings:
    """Per named query: calls, total ms, longest ms (thread-safe)."""

    def __init__(self, flush_every: float = 10.0) -> None:
        self.flush_every = flush_every
        self._pending: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._redis: redis.Redis | None = None
        self._last_flush = time.monotonic()

    def attach(self, client: redis.Redis) -> None:
        """Add the counts to Redis (``client``: a ``redis.Redis``) from now on."""
        self._redis = client

    def record(self, name: str, elapsed_ms: float) -> None:
        with self._lock:
            self._pending.setdefault(name, _Entry()).add(1, elapsed_ms, elapsed_ms)
            due = self._redis is not None and time.monotonic() - self._last_flush >= self.flush_every
        if due:
            self.flush()

    def local(self) -> pd.DataFrame:
        """What this process counted and has not yet added to Redis (all of it without Redis)."""
        with self._lock:
            return timings_frame({n: (e.calls, e.total_ms, e.max_ms) for n, e in self._pending.items()})

    def flush(self) -> bool:
        """Add the pending counts to Redis; False (and they stay pending) without Redis or on a Redis error:
        timing never breaks a query."""
        with self._lock:
            if self._redis is None or not self._pending:
                return False
            pending, self._pending = self._pending, {}
            self._last_flush = time.monotonic()
        args: list[str | int | float] = []
        for name, e in pending.items():
            args += [name, e.calls, repr(e.total_ms), repr(e.max_ms)]
        try:
            self._redis.eval(_ADD, 1, TIMINGS_KEY, *args)
        except Exception:
            with self._lock:   # put them back for the next flush
                for name, e in pending.items():
                    self._pending.setdefault(name, _Entry()).add(e.calls, e.total_ms, e.max_ms)
            return False
        return True


def read_timings(client: redis.Redis) -> pd.DataFrame:
    """The summary kept in Redis (every process's flushed counts), as :func:`timings_frame`."""
    out: dict[str, list[float]] = {}
    for raw_field, raw_value in client.hgetall(TIMINGS_KEY).items():
        field = raw_field.decode() if isinstance(raw_field, bytes) else str(raw_field)
        name, _, kind = field.rpartition("|")
        slot = {"calls": 0, "total_ms": 1, "max_ms": 2}.get(kind)
        if not name or slot is None:
            continue
        out.setdefault(name, [0, 0.0, 0.0])[slot] = float(raw_value)
    return timings_frame({n: (int(v[0]), v[1], v[2]) for n, v in out.items() if v[0] > 0})


def timings_frame(entries: dict[str, tuple[int, float, float]]) -> pd.DataFrame:
    """``query calls total_ms mean_ms max_ms`` per name, slowest mean first."""
    frame = pd.DataFrame([(n, c, t, t / c if c else 0.0, m) for n, (c, t, m) in entries.items()],
                         columns=["query", "calls", "total_ms", "mean_ms", "max_ms"])
    return frame.sort_values(["mean_ms", "query"], ascending=[False, True], ignore_index=True)
