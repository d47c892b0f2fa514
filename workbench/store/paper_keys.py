"""Redis keys and small writes of paper trading (next to the cache's own keys in ``cache.py``)::

    strategy:{strategy_id}:status     JSON: state, paper run, last bar, equity (key from cache.py)
    strategy:{strategy_id}:signals    LIST, the newest 100 signals
    order:{order_id}:status           JSON: status, symbol, side, quantity, price; 7 days
    user:{user_id}:active_orders      SET of the user's pending order ids

(Fills, rejections, errors and the end of a run are notifications: :func:`workbench.app.notify.notify`.)

Nothing secret is ever written here. When Redis is unreachable these writes are skipped with a warning
(the database stays the record; Redis only mirrors it for dashboards).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final

from workbench.store.cache import CacheUnavailableWarning, FrameCache, strategy_status_key

if TYPE_CHECKING:
    from redis import Redis

__all__ = ["ORDER_STATUS_TTL", "SIGNALS_KEPT", "PaperChannel", "active_orders_key", "order_status_key",
           "redis_client", "strategy_signals_key"]

ORDER_STATUS_TTL: Final = 7 * 24 * 3600
SIGNALS_KEPT: Final = 100


def strategy_signals_key(strategy_id: int) -> str:
    return f"strategy:{strategy_id}:signals"


def redis_client(cache: FrameCache) -> Redis | None:
    """The ``redis.Redis`` client behind ``cache`` (``cache.redis``: through tiers such as
    ``TieredCache``), or None."""
    return cache.redis


def order_status_key(order_id: int) -> str:
    return f"order:{order_id}:status"


def active_orders_key(user_id: int) -> str:
    return f"user:{user_id}:active_orders"


class PaperChannel:
    """What a paper run mirrors into Redis (a no-op on a cache without Redis)."""

    def __init__(self, cache: FrameCache, user_id: int, strategy_id: int) -> None:
        self.cache = cache
        self.user_id = user_id
        self.strategy_id = strategy_id
        self._warned = False

    def _redis(self, what: str, fn: Callable[[Redis], None]) -> None:
        client = redis_client(self.cache)
        if client is None:
            return
        import redis

        try:
            fn(client)
        except (redis.RedisError, OSError) as err:
            if not self._warned:
                warnings.warn(f"Redis unavailable ({what}: {err}); paper trading goes on without it",
                              CacheUnavailableWarning, stacklevel=3)
                self._warned = True

    def status(self, status: Mapping[str, object]) -> None:
        self.cache.set_json(strategy_status_key(self.strategy_id), status)

    def signal(self, signal: Mapping[str, object]) -> None:
        def write(client: Redis) -> None:
            pipe = client.pipeline()
            pipe.lpush(strategy_signals_key(self.strategy_id), json.dumps(signal, default=str))
            pipe.ltrim(strategy_signals_key(self.strategy_id), 0, SIGNALS_KEPT - 1)
            pipe.execute()

        self._redis("signal", write)

    def order(self, order_id: int, status: Mapping[str, object], *, active: bool) -> None:
        def write(client: Redis) -> None:
            pipe = client.pipeline()
            pipe.set(order_status_key(order_id), json.dumps(status, default=str), ex=ORDER_STATUS_TTL)
            if active:
                pipe.sadd(active_orders_key(self.user_id), order_id)
            else:
                pipe.srem(active_orders_key(self.user_id), order_id)
            pipe.execute()

        self._redis("order status", write)
