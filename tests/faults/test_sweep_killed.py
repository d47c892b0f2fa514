"""PostgreSQL SIGKILLed while ``workbench sweep`` stores its combinations (on a server this test starts
itself): the sweep fails with one ``error:`` line, nothing is half-written, and resuming the sweep by its
id stores each combination exactly once, with the numbers of an uninterrupted sweep on a clean database.

What "half-written" means for a sweep (migrations 0001, 0003, 0022): a combination is one
``backtest_results`` row, its ``backtest_manifests`` row and its ``sweep_items`` row, written in one
transaction together with the strategy's summary columns. So after the crash: no result without its
manifest, no manifest of the sweep without its item, no item without its result, no result of another
sweep or none, every row complete (the item's parameters and metrics are its result's), and the
strategy's summary agrees with the results stored.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from workbench.core.backtest import combo_key, parameter_grid
from workbench.ingest.sample import generate_sample_candles
from workbench.services.embedded import EmbeddedPostgres
from workbench.store.database import Database
from workbench.store.migrations import migrate
from workbench.store.writer import write_table

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.db]

GRID = {"fast": list(range(2, 22)), "slow": [24, 30, 36, 42, 48, 54, 60, 66, 72, 80]}   # 200 combinations
COMBOS = len(GRID["fast"]) * len(GRID["slow"])
SYMBOL = "KRW-SYNBTC"


@pytest.fixture
def pg() -> Iterator[EmbeddedPostgres]:
    path = Path(tempfile.mkdtemp(prefix="wb-faults-sweep-"))  # outside pytest's basetemp (see test_embedded)
    server = EmbeddedPostgres(path)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(path, ignore_errors=True)


def _url(pg: EmbeddedPostgres, name: str) -> str:
    """The URL of database ``name`` on the running ``pg`` (a restart picks a new port)."""
    info = pg.running()
    assert info is not None
    return info.url.rsplit("/", 1)[0] + "/" + name


def _database(pg: EmbeddedPostgres, name: str) -> str:
    """A new database ``name`` on ``pg``, migrated and holding the sweep's candles; its URL."""
    with psycopg.connect(_url(pg, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')   # a constant of this test
    url = _url(pg, name)
    db = Database(url)
    try:
        migrate(db)
        write_table(db, "candles", generate_sample_candles({SYMBOL: 5e7}, days=45))
    finally:
        db.dispose()
    return url


def _sweep(tmp_path: Path, url: str, *extra: str) -> subprocess.Popen[str]:
    """``workbench sweep`` as a user runs it, on ``url``, without Redis."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env.update({"WORKBENCH_DATABASE_URL": url, "WORKBENCH_CACHE_ENABLED": "false", "COLUMNS": "200",
                "WORKBENCH_DATA_DIR": str(tmp_path / "cli-data"), "PYTHONPATH": os.pathsep.join(sys.path)})
    cmd = [sys.executable, "-c", "from workbench.cli import main; main()", "sweep", "EmaCross",
           *(f"--grid={k}=" + ",".join(map(str, v)) for k, v in GRID.items()),
           "--symbols", SYMBOL, "--timeframe", "1h", "--chunk-size", "1", *extra]
    return subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _scalar(url: str, sql: str, **params: Any) -> Any:
    with psycopg.connect(url, connect_timeout=10) as conn:
        row = conn.execute(sql, params).fetchone()
        assert row is not None
        return row[0]


def _rows(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, connect_timeout=10) as conn:
        return conn.execute(sql, params).fetchall()


def _children(pid: int) -> list[int]:
    """Pids of the processes whose parent is ``pid`` (the postmaster's backends and helpers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def _gone(pids: list[int]) -> bool:
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        return False
    return True


def _wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


_ITEMS = "SELECT count(*) FROM sweep_items WHERE sweep_id = %(s)s"


def _assert_nothing_half_written(url: str, sweep_id: uuid.UUID) -> int:
    """Every stored combination complete (see the module's docstring); the number stored."""
    s = str(sweep_id)
    items = _scalar(url, _ITEMS, s=s)
    # every result has its manifest, of this sweep (the sweep is all this database ran)
    assert _rows(url, "SELECT r.id, m.sweep_id FROM backtest_results r LEFT JOIN backtest_manifests m "
                      "ON m.backtest_result_id = r.id WHERE m.sweep_id IS DISTINCT FROM %(s)s", s=s) == []
    # every manifest has its item, every item its result: one row of each per combination
    assert _rows(url, "SELECT m.backtest_result_id FROM backtest_manifests m LEFT JOIN sweep_items i "
                      "ON i.backtest_result_id = m.backtest_result_id WHERE i.combo_key IS NULL") == []
    assert _rows(url, "SELECT combo_key FROM sweep_items WHERE sweep_id <> %(s)s OR backtest_result_id IS NULL "
                      "OR backtest_result_id NOT IN (SELECT id FROM backtest_results)", s=s) == []
    assert _scalar(url, "SELECT count(*) FROM backtest_results") == items
    assert _scalar(url, "SELECT count(DISTINCT backtest_result_id) FROM sweep_items") == items
    # each row whole and consistent with the others of its combination
    rows = _rows(url, """
        SELECT i.combo_key, i.params, i.metrics, i.daily_returns, i.data_fingerprint,
               m.parameters -> 'params', m.data_fingerprint, m.data_rows,
               r.total_return, r.sharpe_ratio, r.max_drawdown, r.total_trades,
               jsonb_typeof(r.equity_curve), jsonb_typeof(r.trade_history), jsonb_typeof(r.monthly_returns)
        FROM sweep_items i JOIN backtest_results r ON r.id = i.backtest_result_id
        JOIN backtest_manifests m ON m.backtest_result_id = r.id""")
    fingerprints = set()
    for (key, params, metrics, days, fp, m_params, m_fp, m_rows, total_return, sharpe, max_dd, trades,
         *json_kinds) in rows:
        assert key == combo_key(params) and params == m_params, key
        assert fp == m_fp and m_rows > 0 and days, key
        in_item = [float(metrics[k]) for k in ("total_return", "sharpe_ratio", "max_drawdown", "total_trades")]
        assert repr(in_item) == repr([total_return, sharpe, max_dd, float(trades)]), key   # NaN == NaN too
        assert all(kind is not None for kind in json_kinds), key
        fingerprints.add(fp)
    assert len(fingerprints) <= 1
    # the strategy's summary columns agree with the results stored
    summary = _rows(url, """
        SELECT s.total_trades, s.winning_trades, s.losing_trades, a.t, a.w, a.l
        FROM strategies s JOIN (SELECT strategy_id, sum(total_trades) t, sum(winning_trades) w,
                                       sum(losing_trades) l FROM backtest_results GROUP BY strategy_id) a
        ON a.strategy_id = s.id""")
    assert len(summary) == (1 if items else 0)
    for stored_t, stored_w, stored_l, t, w, lose in summary:
        assert (stored_t, stored_w, stored_l) == (t, w, lose)
    return int(items)


def _stored_numbers(url: str) -> dict[str, tuple[Any, ...]]:
    """Per combination: its metrics, daily returns, fingerprint, and its result row's numbers."""
    rows = _rows(url, """
        SELECT i.combo_key, i.metrics, i.daily_returns, i.data_fingerprint,
               r.start_date, r.end_date, r.initial_capital, r.total_return, r.annual_return, r.max_drawdown,
               r.sharpe_ratio, r.sortino_ratio, r.win_rate, r.profit_factor, r.total_trades,
               r.winning_trades, r.losing_trades, r.avg_win, r.avg_loss, r.largest_win, r.largest_loss,
               r.equity_curve, r.trade_history, r.monthly_returns, m.parameters -> 'replay' -> 'digests'
        FROM sweep_items i JOIN backtest_results r ON r.id = i.backtest_result_id
        JOIN backtest_manifests m ON m.backtest_result_id = r.id""")
    numbers = {row[0]: tuple(row[1:]) for row in rows}
    assert len(numbers) == len(rows)
    return numbers


def test_postgres_killed_during_a_sweep_leaves_no_half_combination_and_the_resumed_sweep_completes(
        pg: EmbeddedPostgres, tmp_path: Path) -> None:
    url = _database(pg, "wb_faults_sweep")
    sweep_id = uuid.uuid4()
    proc = _sweep(tmp_path, url, "--sweep-id", str(sweep_id))
    try:
        # some but not all combinations stored: kill the postmaster outright
        _wait(lambda: proc.poll() is not None or _scalar(url, _ITEMS, s=str(sweep_id)) >= 5, 240,
              "the sweep to store its first combinations")
        assert proc.poll() is None, f"the sweep ended before the kill: {proc.communicate()}"
        info = pg.running()
        assert info is not None
        helpers = _children(info.pid)
        os.kill(info.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1, (out, err)
    lines = [line.strip() for line in err.replace("\r", "\n").splitlines() if line.strip()]
    errors = [line for line in lines if "error:" in line]
    assert len(errors) == 1 and errors == lines[-1:], err
    # a query cut off ("connection was lost") or the next connect refused ("PostgreSQL failed"), by timing
    assert errors[0].startswith(("error: PostgreSQL failed:", "error: the database connection was lost:")), err
    assert "WORKBENCH_DATABASE_URL" in errors[0], err
    assert "Traceback" not in err and pg.password not in out + err

    # the orphaned backends notice their postmaster is gone and exit; then crash recovery on restart
    _wait(lambda: pg.running() is None and _gone(helpers), 60, "the killed server's processes to exit")
    pg.start()
    url = _url(pg, "wb_faults_sweep")
    stored = _assert_nothing_half_written(url, sweep_id)
    assert 5 <= stored < COMBOS

    # resume by id: only the missing combinations run, each is stored once
    resumed = _sweep(tmp_path, url, "--sweep-id", str(sweep_id))
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    assert f"resumed sweep {sweep_id}: {stored} combinations were stored" in out
    assert _assert_nothing_half_written(url, sweep_id) == COMBOS
    keys = [r[0] for r in _rows(url, "SELECT combo_key FROM sweep_items")]
    assert sorted(keys) == sorted(combo_key(p) for p in parameter_grid(GRID))

    # the same numbers as one uninterrupted sweep on a clean database
    clean = _database(pg, "wb_faults_sweep_clean")
    fresh = _sweep(tmp_path, clean)
    out, err = fresh.communicate(timeout=300)
    assert fresh.returncode == 0, err
    expected = _stored_numbers(clean)
    got = _stored_numbers(url)
    assert len(expected) == COMBOS and got.keys() == expected.keys()
    for key, numbers in expected.items():
        assert repr(got[key]) == repr(numbers), key   # bit for bit (repr: NaN equals NaN)
