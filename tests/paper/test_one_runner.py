"""One runner per paper run: while one process runs a paper run, a second ``paper --resume`` of it is
refused with one line naming the runner; once the runner is gone (even killed), a resume goes on."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC

import psycopg
import pytest

from workbench.app.paper.runner import resume
from workbench.core.strategies import EmaCross
from workbench.errors import InUseError
from workbench.ingest.sample import generate_sample_candles
from workbench.store.paper_runner import hold_paper_run
from workbench.store.writer import write_table

pytestmark = [pytest.mark.db, pytest.mark.redis]

CLI = [sys.executable, "-c", "from workbench.cli import main; main()"]


def _runner_row(url: str) -> tuple[int, str, int, object] | None:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT paper_run_id, host, pid, since FROM paper_run_runners").fetchone()


def test_a_second_resume_of_a_running_run_is_refused(session, cli_env: dict[str, str],  # type: ignore[no-untyped-def]
                                                     database_url: str) -> None:
    write_table(session.db, "candles", generate_sample_candles(days=10))
    env = {**os.environ, **cli_env, "COLUMNS": "200"}
    # 168 one-hour bars at 7,200x real time: 0.5 s a bar, long enough for a second process to try
    first = subprocess.Popen([*CLI, "paper", "EmaCross", "--symbols", "KRW-SYNBTC", "--replay", "2025-01-02",
                              "2025-01-09", "--speed", "7200"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 180
        row = None
        while row is None and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.2)
            row = _runner_row(database_url)
        assert row is not None, first.communicate()
        run_id, host, pid, since = row
        assert (host, pid) == (socket.gethostname(), first.pid)

        second = subprocess.run([*CLI, "paper", "--resume", str(run_id)], env=env, capture_output=True,
                                text=True, timeout=300)
        assert first.poll() is None, "the first runner ended before the second one tried"
        assert (second.returncode, second.stdout) == (1, "")
        assert second.stderr == (
            f"error: paper run {run_id} is already running in another process: pid {first.pid} on host {host} "
            f"since {since.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC; stop that process (Ctrl-C) or wait for it "
            "to end before resuming\n")
    finally:
        first.send_signal(signal.SIGKILL)    # a crash: the lock goes with its connection, the row stays
        first.communicate(timeout=60)

    with psycopg.connect(database_url) as conn:
        done_before = conn.execute("SELECT bars_processed FROM paper_runs WHERE id = %s", (run_id,)).fetchone()[0]
    assert 0 < done_before < 168
    third = subprocess.run([*CLI, "paper", "--resume", str(run_id)], env=env, capture_output=True, text=True,
                           timeout=300)
    assert third.returncode == 0, third.stderr
    assert third.stdout.splitlines()[0].startswith(
        f"paper run {run_id} (finished): {168 - done_before:,} bars, ")
    with psycopg.connect(database_url) as conn:
        final = conn.execute("SELECT status, bars_processed FROM paper_runs WHERE id = %s", (run_id,)).fetchone()
    assert final == ("finished", 168)
    assert _runner_row(database_url) is None     # the runner's record goes with it


def test_in_process_the_holder_is_named_and_released(session) -> None:  # type: ignore[no-untyped-def]
    """The library call refuses too (here the holder is this very process, on another connection)."""
    from workbench.store.database import Database

    write_table(session.db, "candles", generate_sample_candles(days=3))
    out = session.paper_replay(EmaCross(), "KRW-SYNBTC", "1h",
                               "2025-01-01", "2025-01-02")
    other = Database(session.db.url, pool_size=1, max_overflow=0)
    try:
        with hold_paper_run(other, out.run_id):
            with psycopg.connect(session.db.url) as conn:
                since = conn.execute("SELECT since FROM paper_run_runners").fetchone()[0]
            with pytest.raises(InUseError) as err:
                resume(session, out.run_id)
        assert str(err.value) == (
            f"paper run {out.run_id} is already running in another process: pid {os.getpid()} on host "
            f"{socket.gethostname()} since {since.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC; stop that process "
            "(Ctrl-C) or wait for it to end before resuming")
        assert _runner_row(session.db.url) is None
        again = resume(session, out.run_id)          # released: a resume goes on (nothing left to do)
        assert (again.status, again.bars) == ("finished", 0)
    finally:
        other.dispose()

