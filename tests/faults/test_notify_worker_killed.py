"""``workbench notify worker`` killed (SIGKILL) at random moments while it delivers to a local fake
Telegram and a local SMTP server: every message arrives at least once and at most twice, twice only
when a kill fell between sending it and recording it (the worker logs ``sending`` before it sends and
``delivered`` after the record), and nothing is left in a processing list."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from fake_notify import FakeSMTP, FakeTelegram, serving_smtp, serving_telegram

from workbench.app.notify import notify

pytestmark = [pytest.mark.faults, pytest.mark.slow]

MESSAGES = 80
KILLS = 20


def _worker(env: dict[str, str], log: Path, *extra: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-c", "from workbench.cli import main; main()", "notify", "worker",
                                 "--name", "w1", "--backoff", "0.05", *extra],
                                env=env, stdout=out, stderr=subprocess.STDOUT)


def _wait_for(log: Path, text: str, proc: subprocess.Popen[bytes], times: int = 1, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.read_text(errors="replace").count(text) >= times:
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.005)
    raise AssertionError(f"worker never logged {text!r}: {log.read_text(errors='replace')}")


def _interrupted(log: Path) -> list[tuple[str, str]]:
    """(queue, id) a killed worker had begun sending and not settled (delivered, retry, dead)."""
    open_ = {}
    for line in log.read_text(errors="replace").splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] in ("sending", "delivered", "retry", "dead"):
            key = (parts[1], parts[2])
            if parts[0] == "sending":
                open_[key] = True
            else:
                open_.pop(key, None)
    return list(open_)


def test_no_message_lost_or_sent_twice_outside_the_window(session, redis_server_url, tmp_path):
    wb = session
    with wb.db.begin() as conn:
        conn.exec_driver_sql("UPDATE users SET email = 'ann@example.com', telegram_notifications = TRUE, "
                             "telegram_chat_id = '4242', email_notifications = TRUE WHERE id = %s", (wb.user_id,))
    notes = {}
    for i in range(MESSAGES):
        note = notify(wb, "test", f"m{i:02d}")
        assert note is not None and note.queued == ("telegram_queue", "email_queue")
        notes[note.id] = f"m{i:02d}"
    r = wb.cache.inner.client
    rng = random.Random(19)
    with serving_telegram(FakeTelegram(delay=0.03)) as tg, serving_smtp(FakeSMTP(delay=0.03)) as smtp:
        env = {**os.environ, "WORKBENCH_REDIS_URL": redis_server_url, "WORKBENCH_TELEGRAM_API_URL": tg.url,
               "WORKBENCH_TELEGRAM_BOT_TOKEN": tg.token, "WORKBENCH_SMTP_HOST": "127.0.0.1",
               "WORKBENCH_SMTP_PORT": str(smtp.port), "WORKBENCH_SMTP_FROM": "wb@example.com",
               "WORKBENCH_DATA_DIR": str(tmp_path / "data")}
        env.pop("WORKBENCH_DATABASE_URL", None)
        logs = []
        kills = 0
        while kills < KILLS and (r.llen("telegram_queue") or r.llen("email_queue")):
            log = tmp_path / f"worker-{kills}.log"
            logs.append(log)
            proc = _worker(env, log)
            # a restarted worker first delivers what the killed one left (at most one message per queue):
            # kill only after two deliveries, so no message is in the window of two kills
            if _wait_for(log, "delivered ", proc, times=2):
                time.sleep(rng.uniform(0.0, 0.12))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            kills += 1
        log = tmp_path / "worker-final.log"
        logs.append(log)
        final = _worker(env, log, "--until-idle")
        assert final.wait(timeout=60) == 0, log.read_text()
        assert kills == KILLS
        interrupted = Counter(mid for lg in logs for _, mid in _interrupted(lg))
        for queue, received in (("telegram_queue", [text.split("\n")[-1] for _, _, text in tg.received]),
                                ("email_queue", [body for _, _, _, body in smtp.received])):
            counts = Counter(received)
            assert set(counts) == set(notes.values()), f"{queue}: lost {set(notes.values()) - set(counts)}"
            for mid, text in notes.items():
                assert counts[text] <= min(2, 1 + interrupted[mid])
                if interrupted[mid] == 0:
                    assert counts[text] == 1, f"{queue} {text} sent {counts[text]} times, no kill in its window"
            assert r.llen(queue) == 0 and r.zcard(f"{queue}:retry") == 0 and r.llen(f"{queue}:dead") == 0
            assert r.keys(f"{queue}:processing:*") == [] or all(r.llen(k) == 0 for k in r.keys(f"{queue}:processing:*"))
        # the kills did land mid-delivery: some message was begun and not recorded
        assert sum(interrupted.values()) > 0
