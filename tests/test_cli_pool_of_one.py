"""Every long command completes with a database pool of ONE connection (WORKBENCH_POOL_SIZE=1,
WORKBENCH_MAX_OVERFLOW=0): nothing holds a pooled connection while it waits for another. The pool
timeout is 2 s, so a regression fails in seconds instead of hanging."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from workbench.ingest.sample import generate_sample_candles
from workbench.store.writer import write_table

POOL_OF_ONE = {"WORKBENCH_POOL_SIZE": "1", "WORKBENCH_MAX_OVERFLOW": "0", "WORKBENCH_POOL_TIMEOUT": "2",
               "COLUMNS": "200"}


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-c", "from workbench.cli import main; main()", *args],
                          capture_output=True, text=True, env=env, timeout=400)
    assert proc.returncode == 0, (args, proc.stderr[-2000:])
    assert "error" not in proc.stderr.lower(), proc.stderr[-2000:]
    return proc


@pytest.mark.slow
def test_long_commands_complete_with_a_pool_of_one(session, cli_env: dict[str, str],  # type: ignore[no-untyped-def]
                                                   database_url: str, tmp_path: Path) -> None:
    write_table(session.db, "candles", generate_sample_candles(days=10))
    env = {**os.environ, **cli_env, **POOL_OF_ONE}

    out = _cli(env, "backtest", "EmaCross", "--symbols", "KRW-SYNBTC").stdout
    backtest = re.fullmatch(r"stored as backtest_results\.id (\d+) \(run [0-9a-f-]{36}\)", out.splitlines()[-1])
    assert backtest is not None, out

    out = _cli(env, "sweep", "EmaCross", "--grid", "fast=5,8", "--grid", "slow=21").stdout
    sweep = re.search(r"sweep ([0-9a-f-]{36}), best", out)
    assert sweep is not None, out

    out = _cli(env, "optimize", "EmaCross", "--space", "fast=3:10", "--space", "slow=20:40", "--trials", "4",
               "--folds", "2", "--timeframe", "15m", "--seed", "1", "--study", "pool-of-one").stdout
    stored = re.fullmatch(r"stored: in-sample run (\d+), out-of-sample run (\d+) \(sweep ([0-9a-f-]{36})\)",
                          out.splitlines()[-1])
    assert stored is not None, out

    out = _cli(env, "paper", "EmaCross", "--symbols", "KRW-SYNBTC", "--replay", "2025-01-03", "2025-01-05").stdout
    paper = re.fullmatch(r"paper run (\d+) \(finished\): 48 bars, .*; last bar 2025-01-04 23:00:00\+00:00",
                         out.splitlines()[0])
    assert paper is not None, out

    out = _cli(env, "report", "strategy_backtest", "-p", "symbols", "KRW-SYNBTC", "-p", "start", "2025-01-01",
               "-p", "end", "2025-01-08", "--output-dir", str(tmp_path / "reports")).stdout
    html = Path(out.splitlines()[0])
    assert html.parent == tmp_path / "reports" and html.suffix == ".html" and html.stat().st_size > 0
    kpis = json.loads(html.with_suffix(".json").read_text(encoding="utf-8"))
    assert kpis["notebook"] == "strategy_backtest"

    with psycopg.connect(database_url) as conn:
        runs = dict(conn.execute("SELECT r.id, coalesce(m.split, '') || ':' || r.timeframe FROM backtest_results r "
                                 "JOIN backtest_manifests m ON m.backtest_result_id = r.id").fetchall())
        sweep_runs = conn.execute("SELECT count(*) FROM backtest_manifests WHERE sweep_id = %s",
                                  (sweep[1],)).fetchone()
        paper_row = conn.execute("SELECT status, bars_processed FROM paper_runs WHERE id = %s",
                                 (int(paper[1]),)).fetchone()
    assert runs[int(backtest[1])] == "full:1h"
    assert (runs[int(stored[1])], runs[int(stored[2])]) == ("in_sample:15m", "out_of_sample:15m")
    assert sweep_runs == (2,)
    assert paper_row == ("finished", 48)
    assert len(runs) == 1 + 2 + 2 + 1   # backtest, sweep, optimize in/out of sample, the report's run
