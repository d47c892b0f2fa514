"""Redis keys and atomic moves of notifications (the schema document's ``notifications:{user_id}`` and
``telegram_queue``, plus ``email_queue``)::

    notifications:{user_id}          LIST, the user's newest 200 notifications (JSON, newest first)
    telegram_queue / email_queue     LIST of messages to deliver (producers LPUSH, workers take from the right)
    {queue}:processing:{worker}      LIST, the message a worker is delivering (a reliable queue: LMOVE'd here,
                                     removed only together with the delivery record)
    {queue}:retry                    ZSET of messages waiting for their next attempt (score: due time)
    {queue}:dead                     LIST of messages that failed for good (newest first)
    {queue}:sent:{message_id}        the delivery record (7 days)
    notify:workers                   HASH worker name -> JSON {host, pid}
    notify:worker:{name}             the worker's heartbeat (expires when the worker stops beating)

Every function takes a ``redis.Redis`` client built by the caller.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from redis import Redis

__all__ = ["EMAIL_QUEUE", "NOTIFICATIONS_KEPT", "QUEUES", "SENT_TTL", "TELEGRAM_QUEUE", "WORKERS_KEY",
           "dead_key", "heartbeat_key", "notifications_key", "processing_key", "promote_due", "push_notification",
           "record_sent", "requeue_processing", "retry_key", "sent_key", "settle"]

TELEGRAM_QUEUE: Final = "telegram_queue"
EMAIL_QUEUE: Final = "email_queue"
QUEUES: Final = (TELEGRAM_QUEUE, EMAIL_QUEUE)
NOTIFICATIONS_KEPT: Final = 200
SENT_TTL: Final = 7 * 24 * 3600
WORKERS_KEY: Final = "notify:workers"


def notifications_key(user_id: int) -> str:
    return f"notifications:{user_id}"


def processing_key(queue: str, worker: str) -> str:
    return f"{queue}:processing:{worker}"


def retry_key(queue: str) -> str:
    return f"{queue}:retry"


def dead_key(queue: str) -> str:
    return f"{queue}:dead"


def sent_key(queue: str, message_id: str) -> str:
    return f"{queue}:sent:{message_id}"


def heartbeat_key(worker: str) -> str:
    return f"notify:worker:{worker}"


def push_notification(client: Redis, user_id: int, note: str, deliveries: dict[str, str]) -> None:
    """In one transaction: ``note`` onto the user's bounded list, each of ``deliveries`` (queue ->
    message) onto its queue."""
    pipe = client.pipeline(transaction=True)
    pipe.lpush(notifications_key(user_id), note)
    pipe.ltrim(notifications_key(user_id), 0, NOTIFICATIONS_KEPT - 1)
    for queue, message in deliveries.items():
        pipe.lpush(queue, message)
    pipe.execute()


def record_sent(client: Redis, queue: str, worker: str, raw: str, message_id: str) -> None:
    """The delivery record and the removal from the worker's processing list, in one transaction."""
    pipe = client.pipeline(transaction=True)
    pipe.set(sent_key(queue, message_id), "1", ex=SENT_TTL)
    pipe.lrem(processing_key(queue, worker), 1, raw)
    pipe.execute()


def settle(client: Redis, queue: str, worker: str, raw: str, *, retry: str | None = None, due: float = 0.0,
           dead: str | None = None) -> None:
    """Take ``raw`` off the processing list and, in the same transaction, schedule ``retry`` at ``due``
    (epoch seconds) or file ``dead`` as failed for good."""
    pipe = client.pipeline(transaction=True)
    pipe.lrem(processing_key(queue, worker), 1, raw)
    if retry is not None:
        pipe.zadd(retry_key(queue), {retry: due})
    if dead is not None:
        pipe.lpush(dead_key(queue), dead)
    pipe.execute()


_PROMOTE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 100)
for _, m in ipairs(due) do
  redis.call('ZREM', KEYS[1], m)
  redis.call('RPUSH', KEYS[2], m)
end
return #due
"""


def promote_due(client: Redis, queue: str, now: float) -> int:
    """Move the retries due by ``now`` to the front of ``queue`` (atomically); returns how many."""
    return int(client.eval(_PROMOTE, 2, retry_key(queue), queue, now))


def requeue_processing(client: Redis, queue: str, worker: str) -> int:
    """Put back what ``worker`` left in its processing list (oldest first in line); returns how many."""
    moved = 0
    while client.lmove(processing_key(queue, worker), queue, "LEFT", "RIGHT") is not None:
        moved += 1
    return moved


def this_process() -> dict[str, object]:
    return {"host": socket.gethostname(), "pid": os.getpid()}


def process_alive(info: Mapping[str, object]) -> bool | None:
    """Whether the process of a worker record runs (None: on another host, unknown)."""
    if info.get("host") != socket.gethostname():
        return None
    try:
        os.kill(int(str(info["pid"])), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def worker_info(raw: str | bytes | None) -> dict[str, object]:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
