"""The TimescaleDB test group: TimescaleDB 2.23 inside PGlite (PostgreSQL 17 in WASM), served over TCP.

One server per test session (``node harness/server.mjs``, packages pinned by ``harness/package-lock.json``
and installed with ``npm ci`` when missing). The group is skipped, with the reason, only when node or
npm is not installed; any other failure to start the server is an error.

Limits of that server that the tests design around: it serves one connection at a time (the
``Database`` runs in single-connection mode), it runs no background jobs (tests call ``CALL run_job``),
it crashes on ``COPY FROM STDIN`` (single-connection mode stages rows with ``INSERT``), and there is
one database whose session state outlives connections (tests empty the tables themselves).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.store.database import Database
from workbench.store.migrations import migrate

HARNESS = Path(__file__).parent / "harness"
START_TIMEOUT = 180.0
MARKET_TABLES = ("candles", "technical_indicators", "tickers", "orderbooks", "transactions", "archive_watermarks",
                 "archive_files")
ROLLUPS = tuple(f"candle_rollup_{tf}" for tf in ("5m", "15m", "1h", "4h", "1d"))  # continuous aggregates


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = str(Path(__file__).parent)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.timescale)
            item.add_marker(pytest.mark.node)


def _install() -> None:
    if (HARNESS / "node_modules" / "@unni-craftsman" / "pglite" / "package.json").is_file():
        return
    done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HARNESS, capture_output=True,
                          text=True, timeout=600)
    if done.returncode:
        raise RuntimeError(f"npm ci in {HARNESS} failed:\n{done.stdout}\n{done.stderr}")


@pytest.fixture(scope="session")
def tsdb_url() -> Iterator[str]:
    """URL of a TimescaleDB-in-PGlite server started for this test session."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"TimescaleDB group needs node and npm; not installed: {', '.join(missing)}")
    _install()
    proc = subprocess.Popen(["node", "server.mjs", "--port", "0"], cwd=HARNESS, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "NODE_NO_WARNINGS": "1"})
    port: list[int] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("READY "):
                port.append(int(line.split()[1]))
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not ready.wait(START_TIMEOUT) or not port:
            proc.kill()
            err = proc.stderr.read() if proc.stderr else ""
            raise RuntimeError(f"TimescaleDB-in-PGlite did not start within {START_TIMEOUT:.0f} s:\n{err}")
        yield f"postgresql://postgres:postgres@127.0.0.1:{port[0]}/postgres?sslmode=disable"
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def tsdb_migrated(tsdb_url: str) -> str:
    db = Database(tsdb_url, single_connection=True)
    migrate(db)
    db.dispose()
    return tsdb_url


@pytest.fixture
def tsdb(tsdb_migrated: str) -> Iterator[Database]:
    """A single-connection Database on the harness, market tables emptied before the test."""
    database = Database(tsdb_migrated, single_connection=True)
    with database.begin() as conn:
        conn.exec_driver_sql("TRUNCATE " + ", ".join(MARKET_TABLES) + " RESTART IDENTITY")
        for view in ROLLUPS:  # their materialized buckets outlive the raw rows
            conn.exec_driver_sql(f"TRUNCATE {view}")
    yield database
    database.dispose()
