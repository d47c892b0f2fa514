"""The notify worker against a local fake Telegram and a local SMTP server: delivery, retries with
back-off, failures for good, recovery of a dead worker's processing list."""

from __future__ import annotations

import json
import os
import socket

import pytest
from fake_notify import FakeSMTP, FakeTelegram, serving_smtp, serving_telegram

from workbench.app.notify.channels import EmailChannel, TelegramChannel
from workbench.app.notify.worker import WorkerOptions, run_worker
from workbench.errors import ServiceError


def _msg(mid, to, text, kind="sweep_finished"):
    return json.dumps({"id": mid, "user_id": 1, "kind": kind, "text": text, "created": "2026-12-03T00:00:00+00:00",
                       "to": to, "attempts": 0}, sort_keys=True)


@pytest.fixture
def servers():
    with serving_telegram(FakeTelegram()) as tg, serving_smtp(FakeSMTP()) as smtp:
        yield tg, smtp


def _channels(tg, smtp):
    return {"telegram_queue": TelegramChannel(tg.url, tg.token, timeout=5),
            "email_queue": EmailChannel("127.0.0.1", smtp.port, "wb@example.com", timeout=5)}


def test_worker_delivers_both_queues_once(redis_cache, servers):
    tg, smtp = servers
    r = redis_cache.client
    r.lpush("telegram_queue", _msg("a1", "77", "sweep done"))
    r.lpush("email_queue", _msg("b1", "ann@example.com", "sweep done"))
    lines = []
    stats = run_worker(r, _channels(tg, smtp), WorkerOptions(name="w"), until_idle=True, log=lines.append)
    assert tg.received == [("123:TEST", "77", "Sweep finished\nsweep done")]
    assert smtp.received == [("wb@example.com", ["ann@example.com"], "Sweep finished", "sweep done")]
    assert (stats.delivered, stats.retried, stats.dead) == (2, 0, 0)
    assert lines == ["worker w started (telegram_queue, email_queue); 0 message(s) re-queued",
                     "sending telegram_queue a1", "delivered telegram_queue a1",
                     "sending email_queue b1", "delivered email_queue b1"]
    assert r.exists("telegram_queue:sent:a1") and r.exists("email_queue:sent:b1")
    assert r.llen("telegram_queue:processing:w") == 0 and r.llen("email_queue:processing:w") == 0
    assert r.hgetall("notify:workers") == {} and not r.exists("notify:worker:w")


def test_temporary_failures_are_retried_with_doubling_back_off(redis_cache, servers):
    tg, smtp = servers
    tg.failures = [500, 429, 502]
    r = redis_cache.client
    r.lpush("telegram_queue", _msg("a1", "77", "hello"))
    lines = []
    stats = run_worker(r, {"telegram_queue": _channels(tg, smtp)["telegram_queue"]},
                       WorkerOptions(name="w", backoff=0.05, poll=0.05), until_idle=True, log=lines.append)
    assert [ln for ln in lines if ln.startswith("retry")] == [
        "retry telegram_queue a1 in 0.05s (attempt 1): Telegram answered HTTP 500",
        "retry telegram_queue a1 in 0.1s (attempt 2): Telegram answered HTTP 429",
        "retry telegram_queue a1 in 0.2s (attempt 3): Telegram answered HTTP 502",
    ]
    assert tg.received == [("123:TEST", "77", "Sweep finished\nhello")]
    assert (stats.delivered, stats.retried, stats.dead) == (1, 3, 0)


def test_give_up_after_max_attempts_and_on_permanent_failures(redis_cache, servers):
    tg, smtp = servers
    tg.failures = [503, 503]
    tg.unknown_chats = {"404"}
    smtp.refused = {"nobody@example.com"}
    r = redis_cache.client
    opts = WorkerOptions(name="w", max_attempts=2, backoff=0.01, poll=0.05)
    r.lpush("telegram_queue", _msg("a1", "77", "x"))
    stats = run_worker(r, _channels(tg, smtp), opts, until_idle=True, log=lambda _: None)
    assert (stats.delivered, stats.retried, stats.dead) == (0, 1, 1)
    r.lpush("telegram_queue", _msg("a2", "404", "y"))
    r.lpush("email_queue", _msg("b1", "nobody@example.com", "z"))
    stats = run_worker(r, _channels(tg, smtp), opts, until_idle=True, log=lambda _: None)
    assert (stats.delivered, stats.retried, stats.dead) == (0, 0, 2)
    assert tg.received == [] and smtp.received == []
    dead = {json.loads(m)["id"]: json.loads(m) for m in r.lrange("telegram_queue:dead", 0, -1)}
    assert dead["a1"]["attempts"] == 2 and dead["a1"]["error"] == "Telegram answered HTTP 503"
    assert dead["a2"]["error"] == "Telegram answered HTTP 400: Bad Request: chat not found"
    (mail,) = [json.loads(m) for m in r.lrange("email_queue:dead", 0, -1)]
    assert mail["error"] == "SMTP refused recipient 'nobody@example.com': [550]"


def test_unreachable_servers_are_temporary(redis_cache):
    with socket.socket() as s:    # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = redis_cache.client
    r.lpush("email_queue", _msg("b1", "a@example.com", "z"))
    lines = []
    run_worker(r, {"email_queue": EmailChannel("127.0.0.1", port, "wb@example.com", timeout=2)},
               WorkerOptions(name="w", max_attempts=2, backoff=0.01, poll=0.05), until_idle=True, log=lines.append)
    assert lines[-3:] == ["retry email_queue b1 in 0.01s (attempt 1): SMTP server unreachable: ConnectionRefusedError",
                          "sending email_queue b1",
                          "dead email_queue b1 after 2 attempts: SMTP server unreachable: ConnectionRefusedError"]


def test_a_dead_workers_processing_list_is_requeued(redis_cache, servers):
    tg, smtp = servers
    r = redis_cache.client
    # "ghost" died mid-delivery: its message is in its processing list, its heartbeat expired
    r.hset("notify:workers", "ghost", json.dumps({"host": "elsewhere", "pid": 1}))
    r.lpush("telegram_queue:processing:ghost", _msg("a1", "77", "stranded"))
    r.lpush("telegram_queue", _msg("a2", "77", "queued"))
    lines = []
    stats = run_worker(r, _channels(tg, smtp), WorkerOptions(name="w"), until_idle=True, log=lines.append)
    assert lines[0] == "worker w started (telegram_queue, email_queue); 1 message(s) re-queued"
    assert [t for _, _, t in tg.received] == ["Sweep finished\nstranded", "Sweep finished\nqueued"]
    assert stats.delivered == 2 and r.hkeys("notify:workers") == []


def test_a_live_workers_list_is_left_alone(redis_cache, servers):
    tg, smtp = servers
    r = redis_cache.client
    alive = json.dumps({"host": "elsewhere", "pid": 1})
    r.hset("notify:workers", "other", alive)
    r.set("notify:worker:other", alive, ex=30)
    r.lpush("telegram_queue:processing:other", _msg("a1", "77", "being sent"))
    stats = run_worker(r, _channels(tg, smtp), WorkerOptions(name="w"), until_idle=True, log=lambda _: None)
    assert stats.requeued == 0 and tg.received == []
    assert r.llen("telegram_queue:processing:other") == 1


def test_a_name_held_by_a_live_process_is_refused(redis_cache, servers):
    tg, smtp = servers
    r = redis_cache.client
    r.set("notify:worker:w", json.dumps({"host": socket.gethostname(), "pid": os.getppid()}), ex=30)
    with pytest.raises(ServiceError, match=r"^notify worker name 'w' is in use by pid \d+ on "):
        run_worker(r, _channels(tg, smtp), WorkerOptions(name="w"), until_idle=True, log=lambda _: None)
