"""Two ``workbench study`` runs at once on one data dir, on the embedded default (servers this test's
processes start themselves, never the shared ones): both finish with complete reports of their own and
their runs stored, neither stops the servers under the other, and none is left running afterwards."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.core.strategies import BUILTIN_STRATEGIES
from workbench.services.config import Settings
from workbench.services.embedded import EmbeddedPostgres, EmbeddedRedis
from workbench.services.resolve import stop_embedded

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.db, pytest.mark.redis]

_REPORT = re.compile(r"^report \((\w+)\): (\S+\.html)$", re.MULTILINE)
_RUN = re.compile(r"^\s+(\w+)\s.*-> backtest_results\.id (\d+)$", re.MULTILINE)


def _study(data: Path, reports: Path, cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    """``workbench study`` as ``./wb study`` runs it: nothing configured but the data and reports dirs;
    stdout to ``log``.out, stderr to ``log``.err."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env.update({"WORKBENCH_DATA_DIR": str(data), "WORKBENCH_REPORTS_DIR": str(reports), "COLUMNS": "500",
                "PYTHONPATH": os.pathsep.join(sys.path)})
    with log.with_suffix(".out").open("wb") as out, log.with_suffix(".err").open("wb") as err:
        return subprocess.Popen([sys.executable, "-c", "from workbench.cli import main; main()", "study"],
                                env=env, cwd=cwd, stdout=out, stderr=err,
                                start_new_session=True)   # its report kernels in its group, for the clean-up


@pytest.fixture
def data() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="wb-faults-studies-"))  # outside pytest's basetemp (see test_embedded)
    try:
        yield path
    finally:
        stop_embedded(Settings(data_dir=path, database_url=None, redis_url=None, _env_file=None), force=True)
        shutil.rmtree(path, ignore_errors=True)


def _exited(pid: int) -> bool:
    """``pid`` has exited (a zombie nobody reaped yet counts)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def _gone(pid: int, timeout: float = 30) -> bool:
    """``pid`` exits within ``timeout``."""
    deadline = time.monotonic() + timeout
    while not _exited(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_two_studies_at_once_on_one_data_dir_share_the_servers_and_leave_none_running(data: Path,
                                                                                      tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    servers = {"postgres": EmbeddedPostgres(data), "redis": EmbeddedRedis(data)}
    procs = [_study(data, reports, tmp_path, tmp_path / f"study{i}") for i in range(2)]
    seen: dict[str, set[int]] = {name: set() for name in servers}
    try:
        # watch the servers while the studies run: each is started once, and once up it stays up as long
        # as a study holds a lease on it (the lease is read after the server: a study drops its lease
        # before it stops a server itself)
        deadline = time.monotonic() + 600
        while any(p.poll() is None for p in procs):
            assert time.monotonic() < deadline, "the studies did not finish in 10 minutes"
            for name, server in servers.items():
                info = server.running()
                if info is not None:
                    seen[name].add(info.pid)
                if any(_exited(pid) for pid in seen[name]):
                    users = [i for i, p in enumerate(procs) if (data / "leases" / f"{name}.{p.pid}").exists()]
                    assert not users, f"embedded {name} was stopped while study {users} still used it"
            time.sleep(0.1)
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        left = {name: server.running() for name, server in servers.items()}
    outputs = [((tmp_path / f"study{i}.out").read_text(), (tmp_path / f"study{i}.err").read_text())
               for i in range(2)]
    for p, (_, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err[-3000:]
        assert "WARNING" not in err and "Traceback" not in err, err[-3000:]   # a clean run's output

    # no embedded server is left running, and each was started exactly once (never stopped under a study)
    assert left == {"postgres": None, "redis": None}
    assert len(seen["postgres"]) == 1 and len(seen["redis"]) == 1, seen
    assert all(_gone(pid) for pids in seen.values() for pid in pids)
    assert not list((data / "leases").glob("*"))

    # each study wrote its own two reports, complete, and the index lists all four
    paths: list[Path] = []
    ids: dict[str, list[int]] = {name: [] for name in BUILTIN_STRATEGIES}
    for out, _ in outputs:
        found = dict(_REPORT.findall(out))
        assert sorted(found) == ["run_comparison", "strategy_backtest"], out
        paths += [Path(found["strategy_backtest"]), Path(found["run_comparison"])]
        runs = _RUN.findall(out)
        assert sorted(name for name, _ in runs) == sorted(BUILTIN_STRATEGIES), out
        for name, bid in runs:
            ids[name].append(int(bid))
    assert len(set(paths)) == 4 and all(p.parent == reports for p in paths), paths
    for path in paths:
        html = path.read_text(encoding="utf-8")
        assert html.rstrip().endswith("</html>") and "Plotly.newPlot" in html, path
        assert "SYNTHETIC SAMPLE DATA" in html, path
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        assert meta["html"] == path.name, path
        assert path.with_suffix(".ipynb").exists(), path
    assert not (reports / "failed").exists()
    assert not [p.name for p in reports.iterdir() if p.name.endswith(".tmp")]
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{p.name}"' in index for p in paths), index[-2000:]

    # both studies' runs are stored, each once, each with its manifest; the sample was loaded once
    import psycopg

    with psycopg.connect(servers["postgres"].start().url) as conn:   # stopped again by the fixture
        stored = dict(conn.execute(
            "SELECT r.id, s.name FROM backtest_results r JOIN strategies s ON s.id = r.strategy_id "
            "JOIN backtest_manifests m ON m.backtest_result_id = r.id").fetchall())
        total = conn.execute("SELECT count(*) FROM backtest_results").fetchone()
        twice = conn.execute("SELECT name FROM strategies GROUP BY user_id, name HAVING count(*) > 1").fetchall()
        candles = conn.execute("SELECT count(*) FROM candles").fetchone()
    assert total == (2 * len(BUILTIN_STRATEGIES),)
    assert stored == {bid: name for name, bids in ids.items() for bid in bids}
    assert all(len(bids) == 2 for bids in ids.values()), ids
    assert twice == []                                # one stored strategy per name, not one per study
    assert candles == (60 * 1440 * 3,)                # the default sample: 60 days of 1m, three symbols
