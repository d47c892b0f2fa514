"""No password of the embedded servers appears anywhere a run leaves traces: stdout, stderr, the
report HTML and executed notebook, Redis values, stored manifests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.db, pytest.mark.redis]


def test_a_run_leaks_no_password(tmp_path: Path) -> None:
    import psycopg
    import redis

    from workbench.services.config import Settings
    from workbench.services.embedded import EmbeddedPostgres, EmbeddedRedis
    from workbench.services.resolve import stop_embedded

    data = Path(tempfile.mkdtemp(prefix="wb-secrets-"))  # outside pytest's basetemp (see test_embedded)
    reports = tmp_path / "reports"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env.update({"WORKBENCH_DATA_DIR": str(data), "WORKBENCH_REPORTS_DIR": str(reports), "COLUMNS": "200",
                "PYTHONPATH": os.pathsep.join(sys.path)})
    outputs: list[str] = []

    def cli(*args: str) -> None:
        r = subprocess.run([sys.executable, "-c", "from workbench.cli import main; main()", *args, "--debug"],
                           capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
        outputs.extend([r.stdout, r.stderr])
        assert r.returncode == 0, r.stderr

    settings = Settings(data_dir=data, database_url=None, redis_url=None, _env_file=None)
    try:
        cli("services", "start")
        cli("services", "status")
        cli("sample", "--days", "3")
        cli("backtest", "EmaCross", "--symbols", "KRW-SYNBTC", "--timeframe", "1h")
        cli("runs")
        cli("report", "data_exploration", "-p", "end", "2025-01-04")
        passwords = [(data / "secrets" / f"{n}.password").read_text().strip() for n in ("postgres", "redis")]
        assert all(len(p) >= 16 for p in passwords)
        pg = EmbeddedPostgres(data).running()
        rd = EmbeddedRedis(data).running()
        assert pg is not None and rd is not None
        client = redis.Redis.from_url(rd.url)
        values = [repr(_value(client, k)) for k in client.scan_iter("*")]
        assert values   # the run cached frames
        with psycopg.connect(pg.url) as conn:
            manifests = [repr(row) for row in conn.execute("SELECT * FROM backtest_manifests").fetchall()]
            runs = [repr(row) for row in conn.execute("SELECT * FROM backtest_results").fetchall()]
        assert manifests
        files = [p.read_text(errors="replace") for p in reports.rglob("*") if p.is_file()]
        assert any(p.suffix == ".html" for p in reports.rglob("*"))
        for pw in passwords:
            for where, texts in (("output", outputs), ("reports", files), ("redis", values),
                                 ("manifests", manifests), ("runs", runs)):
                assert not any(pw in t for t in texts), f"password found in {where}"
    finally:
        stop_embedded(settings, force=True)
        shutil.rmtree(data, ignore_errors=True)


def _value(client: Any, key: bytes) -> object:
    """Whatever ``key`` holds, read by its type (cached frames are strings, notifications lists)."""
    kind = client.type(key)
    kind = kind.decode() if isinstance(kind, bytes) else kind
    readers = {"string": client.get, "list": lambda k: client.lrange(k, 0, -1), "hash": client.hgetall,
               "set": client.smembers, "zset": lambda k: client.zrange(k, 0, -1, withscores=True)}
    return readers[kind](key) if kind in readers else kind
