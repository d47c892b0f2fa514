"""A small thread-safe token-bucket rate limiter with an injectable clock and sleep."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from workbench.errors import ValidationError

__all__ = ["RateLimiter"]


class RateLimiter:
    """Token bucket: at most ``burst`` requests at once, refilled at ``rate`` per second.

    With ``burst=1`` (the default) this is a plain minimum interval of ``1 / rate`` seconds
    between requests. Each :meth:`acquire` reserves its slot under a lock and then sleeps outside
    it, so concurrent threads are spaced out too (each gets its own slot, none is starved).

    Parameters
    ----------
    rate : float
        Sustained requests per second; must be > 0. ``math.inf`` disables limiting.
    burst : int, optional
        Bucket capacity: how many requests may go out back to back after an idle period.
    clock : callable, optional
        Monotonic clock in seconds (``time.monotonic``); injectable for tests.
    sleep : callable, optional
        Sleep function (``time.sleep``); injectable for tests.

    Examples
    --------
    >>> t = [0.0]
    >>> limiter = RateLimiter(10, clock=lambda: t[0], sleep=lambda s: t.__setitem__(0, t[0] + s))
    >>> [round(limiter.acquire(), 3) for _ in range(3)]
    [0.0, 0.1, 0.1]
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not (isinstance(rate, int | float) and rate > 0):
            raise ValidationError(f"rate must be a positive number of requests per second (got {rate!r})")
        if not (isinstance(burst, int) and burst >= 1):
            raise ValidationError(f"burst must be an integer >= 1 (got {burst!r})")
        self.rate = float(rate)
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._updated: float | None = None

    @property
    def min_interval(self) -> float:
        """Seconds between requests at the sustained rate (``0.0`` when unlimited)."""
        return 0.0 if math.isinf(self.rate) else 1.0 / self.rate

    def reserve(self) -> float:
        """Take one token and return how long the caller must wait before using it (no sleeping)."""
        if math.isinf(self.rate):
            return 0.0
        with self._lock:
            now = self._clock()
            if self._updated is not None:
                self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def acquire(self) -> float:
        """Block until a request may be sent; return the seconds waited."""
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return wait
