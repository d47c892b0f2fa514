"""Fault injection on servers these tests start themselves (never the shared ones): a paused Redis
during a write, PostgreSQL killed during an import. Nothing half-written; a rerun completes; no
server is left behind."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from workbench.ingest.sample import generate_sample_candles
from workbench.services.embedded import EmbeddedPostgres, EmbeddedRedis
from workbench.store.cache import CacheUnavailableWarning, RedisCache
from workbench.store.database import Database
from workbench.store.market_data import load_candles
from workbench.store.migrations import migrate
from workbench.store.versions import cache_secret
from workbench.store.writer import write_frame, write_table

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.db, pytest.mark.redis]


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="wb-faults-"))  # outside pytest's basetemp (see test_embedded)
    yield path
    EmbeddedRedis(path).stop()
    EmbeddedPostgres(path).stop()
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def pg(data_dir: Path) -> EmbeddedPostgres:
    server = EmbeddedPostgres(data_dir)
    server.start()
    return server


def _db(pg: EmbeddedPostgres) -> Database:
    info = pg.running() or pg.start()
    db = Database(info.url)
    migrate(db)
    return db


def _count(db: Database, symbol: str) -> int:
    with db.begin() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM candles WHERE symbol = :s"), {"s": symbol}).scalar())


def test_redis_paused_during_a_write_serves_no_stale_frame(data_dir: Path, pg: EmbeddedPostgres) -> None:
    db = _db(pg)
    info = EmbeddedRedis(data_dir).start()
    cache = RedisCache.from_url(info.url, source="faults", secret=cache_secret(db))
    frame = generate_sample_candles({"KRW-SYNFLT": 100.0}, days=1)
    write_table(db, "candles", frame)
    before = load_candles(db, "KRW-SYNFLT", "1h", cache=cache)
    changed = frame.iloc[:60].assign(**{c: frame[c].iloc[:60] * 3 for c in
                                        ("open_price", "high_price", "low_price", "close_price")})
    os.kill(info.pid, signal.SIGSTOP)
    try:
        with pytest.warns(CacheUnavailableWarning):
            write_frame(db, "candles", changed, cache=cache)   # invalidation times out
    finally:
        os.kill(info.pid, signal.SIGCONT)
    cache._down_until = 0.0   # Redis is back; do not wait out the 30 s back-off
    after = load_candles(db, "KRW-SYNFLT", "1h", cache=cache)
    assert after["open"].iloc[0] == pytest.approx(3 * before["open"].iloc[0])
    db.dispose()
    assert EmbeddedRedis(data_dir).stop()


_IMPORT = r"""
import sys
from workbench.store.database import Database
from workbench.ingest.importer import import_csv
r = import_csv(Database(sys.argv[1]), sys.argv[2], "candles", symbol="KRW-SYNKIL", timeframe="1m",
               block_size=1 << 16)
print(r.inserted)
"""


def test_postgres_killed_during_an_import_leaves_nothing_and_a_rerun_completes(pg: EmbeddedPostgres,
                                                                                tmp_path: Path) -> None:
    n = 300_000
    ts = pd.date_range("2024-01-01", periods=n, freq="1min", tz="UTC")
    path = tmp_path / "big.csv"
    pd.DataFrame({"timestamp": ts.as_unit("ms").asi8, "open": 100.0, "high": 101.0, "low": 99.0, "close": 100.5,
                  "volume": 1.0}).to_csv(path, index=False)
    db = _db(pg)
    url = db.url
    db.dispose()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen([sys.executable, "-c", _IMPORT, url, str(path)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    info = pg.running()
    assert info is not None
    # wait until the import is staging rows, then kill the postmaster outright
    deadline = time.monotonic() + 30
    staged = False
    while time.monotonic() < deadline and not staged:
        time.sleep(0.2)
        with Database(url).begin() as conn:
            staged = bool(conn.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE query ILIKE '%_wb_stage%' OR query ILIKE 'COPY%'")).scalar())
    os.kill(info.pid, signal.SIGKILL)
    out, err = child.communicate(timeout=60)
    assert child.returncode != 0, out
    deadline = time.monotonic() + 20
    while pg.running() is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    db = _db(pg)   # restart (crash recovery)
    assert _count(db, "KRW-SYNKIL") == 0    # nothing half-written
    db.dispose()
    rerun = subprocess.run([sys.executable, "-c", _IMPORT, db.url, str(path)], env=env, capture_output=True,
                           text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    db = _db(pg)
    assert _count(db, "KRW-SYNKIL") == n
    db.dispose()


_STUDY_LIKE = r"""
import sys, time
from pathlib import Path
from workbench.services.config import Settings
from workbench.services.resolve import finish_embedded
from workbench.app.session import connect
settings = Settings(data_dir=Path(sys.argv[1]), database_url=None, redis_url=None, _env_file=None)
wb = connect(settings)
Path(sys.argv[2]).write_text(",".join(wb.urls.started))
while not Path(sys.argv[3]).exists():
    time.sleep(0.1)
wb.close()
print(finish_embedded(settings, wb.urls))   # what run_study does at its end
"""


def test_a_finishing_run_does_not_stop_servers_another_process_uses_and_the_last_user_stops_them(
        tmp_path: Path) -> None:
    from workbench.app.session import connect
    from workbench.services.config import Settings
    from workbench.services.resolve import finish_embedded, stop_embedded

    data = Path(tempfile.mkdtemp(prefix="wb-faults-share-"))
    settings = Settings(data_dir=data, database_url=None, redis_url=None, _env_file=None)
    ready, go = tmp_path / "ready", tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    first = subprocess.Popen([sys.executable, "-c", _STUDY_LIKE, str(data), str(ready), str(go)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert ready.read_text() == "postgres,redis"
        wb = connect(settings)                 # a second client (a notebook kernel, another study)
        assert wb.urls.started == ()
        go.touch()
        out, err = first.communicate(timeout=60)
        assert first.returncode == 0, err
        assert out.strip() == "[]"             # it stopped nothing: this process still uses them
        assert wb.inventory() is not None      # and the database still answers
        wb.close()
        infos = [EmbeddedPostgres(data).running(), EmbeddedRedis(data).running()]
        # this process did not start them, but is the last user: finishing, it stops them
        stopped = finish_embedded(settings, wb.urls)
        after = [EmbeddedPostgres(data).running(), EmbeddedRedis(data).running()]
        leases = sorted(p.name for p in (data / "leases").iterdir())
    finally:
        if first.poll() is None:
            first.kill()
        stop_embedded(settings, force=True)
        shutil.rmtree(data, ignore_errors=True)
    assert all(infos) and sorted(stopped) == ["postgres", "redis"]
    assert after == [None, None] and leases == []
