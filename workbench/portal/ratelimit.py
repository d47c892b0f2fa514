"""Failed logins counted per user name and per client address; too many in a window locks logins out."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import redis

__all__ = ["LoginLimiter"]


@dataclass
class LoginLimiter:
    """At most ``per_user`` failed logins per user name and ``per_address`` per client address within
    ``window`` seconds (fixed windows starting at the first failure). Counters live in Redis
    (``login_failures:user:{name}``, ``login_failures:addr:{address}``), in memory without Redis."""

    redis_client: redis.Redis | None
    per_user: int = 5
    per_address: int = 20
    window: int = 900
    _memory: dict[str, tuple[int, float]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _keys(self, username: str, address: str) -> tuple[tuple[str, int], tuple[str, int]]:
        return ((f"login_failures:user:{username.lower()[:50]}", self.per_user),
                (f"login_failures:addr:{address}", self.per_address))

    def _count(self, key: str) -> int:
        if self.redis_client is not None:
            return int(self.redis_client.get(key) or 0)
        with self._lock:
            n, until = self._memory.get(key, (0, 0.0))
            return n if until > time.monotonic() else 0

    def blocked(self, username: str, address: str) -> bool:
        """Whether a login of ``username`` from ``address`` is refused without checking the password."""
        return any(self._count(key) >= limit for key, limit in self._keys(username, address))

    def failed(self, username: str, address: str) -> None:
        for key, _ in self._keys(username, address):
            if self.redis_client is not None:
                pipe = self.redis_client.pipeline()
                pipe.incr(key)
                pipe.expire(key, self.window, nx=True)
                pipe.execute()
            else:
                with self._lock:
                    n, until = self._memory.get(key, (0, 0.0))
                    now = time.monotonic()
                    self._memory[key] = (n + 1, until) if until > now else (1, now + self.window)

    def succeeded(self, username: str) -> None:
        """A correct login clears the user name's failures (not the address's)."""
        key = self._keys(username, "")[0][0]
        if self.redis_client is not None:
            self.redis_client.delete(key)
        else:
            with self._lock:
                self._memory.pop(key, None)
