"""``workbench notify worker``: delivers ``telegram_queue`` and ``email_queue`` with retries.

Reliable queue: a message is LMOVE'd from its queue into this worker's processing list, sent, and then
removed from that list in the same transaction that writes its delivery record. A worker killed at any
moment leaves its message in the processing list; the next worker of the same name (at once) or any
worker (once the dead one's heartbeat has expired, or its process is gone on this host) puts it back
in the queue. So nothing is lost, and a message is sent twice only when the kill fell after it was
sent and before the record was written. A failed send is retried after ``backoff * 2**(attempt-1)``
seconds (capped by ``max_backoff``; a Telegram ``retry_after`` is honoured) up to ``max_attempts``,
then filed in ``{queue}:dead``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from workbench.app.notify.channels import Channel, PermanentFailure, TemporaryFailure
from workbench.app.notify.queue import (
    QUEUES,
    WORKERS_KEY,
    heartbeat_key,
    process_alive,
    processing_key,
    promote_due,
    record_sent,
    requeue_processing,
    retry_key,
    sent_key,
    settle,
    this_process,
    worker_info,
)
from workbench.errors import ServiceError

if TYPE_CHECKING:
    from redis import Redis

__all__ = ["WorkerOptions", "WorkerStats", "recover_dead_workers", "run_worker"]

_SUBJECTS = {
    "report_finished": "Report finished", "sweep_finished": "Sweep finished",
    "optimize_finished": "Optimization finished", "paper_fill": "Paper order filled",
    "paper_run_stopped": "Paper run stopped", "paper_run_failed": "Paper run failed",
    "paper_run_finished": "Paper run finished", "quality_alarm": "Data-quality alarm",
    "monitor_alarm": "Monitoring alarm", "monitor_recovered": "Monitoring alarm recovered",
    "test": "Test notification",
}


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    name: str
    max_attempts: int = 8
    backoff: float = 2.0
    max_backoff: float = 600.0
    heartbeat: float = 15.0
    poll: float = 1.0


@dataclass
class WorkerStats:
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    requeued: int = 0
    by_queue: dict[str, int] = field(default_factory=dict)


def _beat(client: Redis, opts: WorkerOptions) -> None:
    info = json.dumps(this_process())
    pipe = client.pipeline(transaction=True)
    pipe.set(heartbeat_key(opts.name), info, px=int(opts.heartbeat * 1000))
    pipe.hset(WORKERS_KEY, opts.name, info)
    pipe.execute()


def _claim(client: Redis, opts: WorkerOptions) -> None:
    """Take the name: refused while another live process holds it."""
    holder = worker_info(client.get(heartbeat_key(opts.name)))
    if holder and holder != this_process() and process_alive(holder) is not False:
        raise ServiceError(f"notify worker name {opts.name!r} is in use by pid {holder.get('pid')} on "
                           f"{holder.get('host')}; give another --name or stop that worker")
    _beat(client, opts)


def recover_dead_workers(client: Redis, *, me: str | None = None) -> int:
    """Re-queue the processing lists of workers that are gone (and of ``me``: a previous incarnation);
    returns how many messages went back."""
    moved = 0
    for raw_name, raw_info in client.hgetall(WORKERS_KEY).items():
        name = raw_name.decode() if isinstance(raw_name, bytes) else str(raw_name)
        if name != me:
            beat = client.get(heartbeat_key(name))
            if beat is not None and process_alive(worker_info(beat)) is not False:
                continue
            if beat is None and client.hget(WORKERS_KEY, name) != raw_info:
                continue   # re-registered meanwhile
        for queue in QUEUES:
            moved += requeue_processing(client, queue, name)
        if name != me:
            client.hdel(WORKERS_KEY, name)
    return moved


def _delay(opts: WorkerOptions, attempts: int, retry_after: float | None) -> float:
    delay = min(opts.max_backoff, opts.backoff * 2 ** (attempts - 1))
    return float(max(delay, retry_after or 0.0))


def _handle(client: Redis, queue: str, channel: Channel, raw: str, opts: WorkerOptions, stats: WorkerStats,
            log: Callable[[str], None]) -> None:
    try:
        msg = json.loads(raw)
        mid, to, text = str(msg["id"]), str(msg["to"]), str(msg["text"])
    except (ValueError, KeyError, TypeError):
        settle(client, queue, opts.name, raw, dead=raw)
        stats.dead += 1
        log(f"dead {queue} (malformed message)")
        return
    if client.exists(sent_key(queue, mid)):   # already delivered (queued twice): drop
        settle(client, queue, opts.name, raw)
        return
    log(f"sending {queue} {mid}")
    try:
        channel.send(to, _SUBJECTS.get(str(msg.get("kind")), "Workbench notification"), text)
    except TemporaryFailure as err:
        attempts = int(msg.get("attempts", 0)) + 1
        msg["attempts"], msg["error"] = attempts, str(err)
        if attempts >= opts.max_attempts:
            settle(client, queue, opts.name, raw, dead=json.dumps(msg, sort_keys=True))
            stats.dead += 1
            log(f"dead {queue} {mid} after {attempts} attempts: {err}")
            return
        delay = _delay(opts, attempts, err.retry_after)
        settle(client, queue, opts.name, raw, retry=json.dumps(msg, sort_keys=True), due=time.time() + delay)
        stats.retried += 1
        log(f"retry {queue} {mid} in {delay:g}s (attempt {attempts}): {err}")
        return
    except PermanentFailure as err:
        msg["error"] = str(err)
        settle(client, queue, opts.name, raw, dead=json.dumps(msg, sort_keys=True))
        stats.dead += 1
        log(f"dead {queue} {mid}: {err}")
        return
    record_sent(client, queue, opts.name, raw, mid)
    stats.delivered += 1
    stats.by_queue[queue] = stats.by_queue.get(queue, 0) + 1
    log(f"delivered {queue} {mid}")


def run_worker(client: Redis, channels: dict[str, Channel], opts: WorkerOptions, *,
               log: Callable[[str], None] = print, until_idle: bool = False,
               should_stop: Callable[[], bool] = lambda: False) -> WorkerStats:
    """Deliver the queues of ``channels`` (queue name -> channel) until ``should_stop()`` (or, with
    ``until_idle``, until nothing is queued or due). Queues without a channel are left alone."""
    if not channels:
        raise ServiceError("notify worker: no channel configured (set WORKBENCH_TELEGRAM_BOT_TOKEN and/or "
                           "WORKBENCH_SMTP_HOST)")
    stats = WorkerStats()
    _claim(client, opts)
    stats.requeued = recover_dead_workers(client, me=opts.name)
    log(f"worker {opts.name} started ({', '.join(channels)}); {stats.requeued} message(s) re-queued")
    last_beat = last_recover = time.monotonic()
    while not should_stop():
        now = time.monotonic()
        if now - last_beat >= opts.heartbeat / 3:
            _beat(client, opts)
            last_beat = now
        if now - last_recover >= opts.heartbeat:
            stats.requeued += recover_dead_workers(client, me=None)
            last_recover = now
        busy = False
        for queue, channel in channels.items():
            promote_due(client, queue, time.time())
            raw = client.lmove(queue, processing_key(queue, opts.name), "RIGHT", "LEFT")
            if raw is None:
                continue
            busy = True
            _handle(client, queue, channel, raw.decode() if isinstance(raw, bytes) else raw, opts, stats, log)
        if busy:
            continue
        if until_idle and not any(client.llen(q) or client.zcard(retry_key(q)) for q in channels):
            break
        first = next(iter(channels))
        raw = client.blmove(first, processing_key(first, opts.name), opts.poll,  # type: ignore[arg-type]
                            "RIGHT", "LEFT")   # redis-py takes a float timeout in seconds (annotated int)
        if raw is not None:
            _handle(client, first, channels[first], raw.decode() if isinstance(raw, bytes) else raw, opts,
                    stats, log)
    client.delete(heartbeat_key(opts.name))
    client.hdel(WORKERS_KEY, opts.name)
    return stats
