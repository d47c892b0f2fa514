"""Resumable sweeps: a sweep killed midway finishes under its id; nothing is stored twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import pandas as pd
import pytest
import sqlalchemy as sa

from workbench.core.backtest import run_backtest
from workbench.core.strategies import EmaCross
from workbench.errors import ValidationError
from workbench.ingest.sample import generate_sample_candles
from workbench.store.sweep_items import load_sweep_items, save_sweep_result
from workbench.store.writer import write_table

pytestmark = [pytest.mark.db, pytest.mark.redis]
GRID = {"fast": [3, 4, 5, 6, 7, 8, 9, 10, 11, 12], "slow": [20, 26, 32, 38, 44, 50]}


def _count(db, sql: str, sweep_id: uuid.UUID) -> int:  # type: ignore[no-untyped-def]
    with db.begin() as conn:
        return int(conn.execute(sa.text(sql), {"s": str(sweep_id)}).scalar_one())


def _stored(db, sweep_id: uuid.UUID) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    items = _count(db, "SELECT count(*) FROM sweep_items WHERE sweep_id = CAST(:s AS uuid)", sweep_id)
    runs = _count(db, "SELECT count(*) FROM backtest_manifests WHERE sweep_id = CAST(:s AS uuid)", sweep_id)
    return items, runs


def test_a_sweep_killed_midway_resumes_and_stores_each_combination_once(  # type: ignore[no-untyped-def]
        session, cli_env: dict[str, str]) -> None:
    write_table(session.db, "candles", generate_sample_candles(days=20))
    sweep_id = uuid.uuid4()
    env = {**os.environ, **cli_env}
    cmd = [sys.executable, "-c", "from workbench.cli import main; main()", "sweep", "EmaCross",
           "--grid", "fast=" + ",".join(map(str, GRID["fast"])), "--grid", "slow=" + ",".join(map(str, GRID["slow"])),
           "--symbols", "KRW-SYNBTC", "--chunk-size", "1", "--sweep-id", str(sweep_id)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None and _stored(session.db, sweep_id)[0] < 3:
        time.sleep(0.01)
    assert proc.poll() is None, f"the sweep ended before it could be killed: {proc.stderr.read()!r}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    items, runs = _stored(session.db, sweep_id)
    assert 3 <= items < 60 and runs == items                 # each stored combination has its run, and only it

    out = session.sweep(EmaCross(), GRID, "KRW-SYNBTC", "1h", sweep_id=sweep_id, progress=False)
    assert out.sweep_id == sweep_id and out.table.attrs["resumed"] == items
    assert _stored(session.db, sweep_id) == (60, 60)
    assert out.table["backtest_id"].notna().all() and out.table["backtest_id"].is_unique
    # the same rows, in grid order, as a sweep run in one go (nothing stored)
    fresh = session.sweep(EmaCross(), GRID, "KRW-SYNBTC", "1h", store=False, progress=False)
    cols = [c for c in fresh.table.columns if c != "backtest_id"]
    pd.testing.assert_frame_equal(out.table[cols], fresh.table[cols], check_dtype=False)
    # and again: everything is stored, nothing runs, nothing is added
    again = session.sweep(EmaCross(), GRID, "KRW-SYNBTC", "1h", sweep_id=str(sweep_id), progress=False)
    assert again.table.attrs["resumed"] == 60 and _stored(session.db, sweep_id) == (60, 60)
    pd.testing.assert_frame_equal(again.table, out.table, check_dtype=False)


def test_a_combination_is_never_stored_twice(session) -> None:  # type: ignore[no-untyped-def]
    from workbench.store.runs import save_strategy

    write_table(session.db, "candles", generate_sample_candles(days=5))
    frame = session.candles("KRW-SYNBTC", "1h")
    result = run_backtest(frame, EmaCross(fast=5, slow=21), timeframe="1h")
    sid = save_strategy(session.db, session.user_id, EmaCross())
    sweep_id = uuid.uuid4()
    first = save_sweep_result(session.db, session.user_id, sid, result, sweep_id)
    second = save_sweep_result(session.db, session.user_id, sid, result, sweep_id)   # a second worker
    assert first[0] is True and isinstance(first[1], int) and second == (False, None)
    assert _stored(session.db, sweep_id) == (1, 1)                 # its backtest row was rolled back
    [item] = load_sweep_items(session.db, sweep_id)
    assert item.params == {"fast": 5, "slow": 21} and item.backtest_id == first[1]
    assert item.metrics["total_return"] == result.metrics.total_return
    assert item.metrics["profit_factor"] == result.metrics.profit_factor or (
        pd.isna(item.metrics["profit_factor"]) and pd.isna(result.metrics.profit_factor))


def test_resuming_on_other_data_is_refused(session) -> None:  # type: ignore[no-untyped-def]
    write_table(session.db, "candles", generate_sample_candles(days=5))
    out = session.sweep(EmaCross(), {"fast": [3, 5], "slow": [13]}, "KRW-SYNBTC", "1h", progress=False)
    with pytest.raises(ValidationError, match="other data"):
        session.sweep(EmaCross(), {"fast": [3, 5], "slow": [13]}, "KRW-SYNBTC", "1h", end="2025-01-03",
                      sweep_id=out.sweep_id, progress=False)
    with pytest.raises(ValidationError, match="not a UUID"):
        session.sweep(EmaCross(), {"fast": [3]}, "KRW-SYNBTC", "1h", sweep_id="nope", progress=False)
