"""The command line against the real test database and Redis (configured through WORKBENCH_* env)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from workbench.cli import app, parse_report_params
from workbench.errors import WorkbenchError


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_data_commands(cli_env: dict[str, str], tmp_path: Path) -> None:
    assert "schema up to date at version" in run("db", "init")
    assert "applied: [1, 2, 3, 4, 5, 11, 21, 22, 41, 50, 51, 52, 57]" in run("db", "status")
    out = run("sample", "--days", "2")
    assert "SYNTHETIC SAMPLE DATA" in out and "8,640 new" in out
    assert "KRW-SYNBTC" in run("inventory")
    assert "missing_bars: 0" in run("quality", "KRW-SYNETH", "--timeframe", "1m")
    assert "technical_indicators: 48 rows" in run("indicators", "KRW-SYNBTC", "--timeframe", "1h")
    csv = tmp_path / "c.csv"
    pd.DataFrame({"timestamp": ["2025-05-01T00:00:00Z", "2025-05-01T00:01:00Z"], "open": [1.0, 2.0],
                  "high": [2.0, 3.0], "low": [0.5, 1.5], "close": [1.5, 2.5], "volume": [1, 1]}).to_csv(csv, index=False)
    assert "2 new" in run("import-csv", str(csv), "--symbol", "KRW-CSV", "--timeframe", "1m")
    again = run("import-csv", str(csv), "--symbol", "KRW-CSV", "--timeframe", "1m")
    assert "2 rows, all unchanged: nothing written" in again and "'timestamp' -> timestamp" in again


def test_research_commands(cli_env: dict[str, str], session) -> None:  # type: ignore[no-untyped-def]
    run("sample", "--days", "3")
    out = run("backtest", "EmaCross", "--symbols", "KRW-SYNBTC,KRW-SYNETH", "--param", "fast=5",
              "--max-positions", "2")
    assert "stored as backtest_results.id 1" in out and "Total return" in out
    assert re.search(r"Total return +│ +[+-]?\d+\.\d\d% ", out), out  # a percentage, not a raw fraction
    assert "e+0" not in out and "e-0" not in out  # no scientific notation
    out = run("sweep", "EmaCross", "--grid", "fast=3,5", "--grid", "slow=13", "--symbols", "KRW-SYNBTC")
    assert "sweep" in out
    runs = session.runs()
    assert sorted(runs["id"]) == [1, 2, 3] and runs["sweep_id"].notna().sum() == 2
    assert sorted(p["params"]["fast"] for p in runs["parameters"]) == [3, 5, 5]
    out = run("runs")
    assert "backtest runs" in out and "EmaCross" in out
    assert "fast=3" in out and "fast=5" in out and "slow=13" in out  # parameters shown
    assert max(len(line) for line in out.splitlines()) <= 100
    assert "EmaCross" in run("strategies") and "long_term" in run("strategies")


def test_errors_exit_1_with_a_message(cli_env: dict[str, str]) -> None:
    cmd = [sys.executable, "-c", "from workbench.cli import main; main()"]
    proc = subprocess.run([*cmd, "backtest", "NoSuchStrategy"], capture_output=True, text=True,
                          env={**os.environ, **cli_env}, timeout=120)
    assert proc.returncode == 1 and "strategy 'NoSuchStrategy' is not one of" in proc.stderr
    proc = subprocess.run([*cmd, "quality", "KRW-NOPE", "--timeframe", "7m"], capture_output=True, text=True,
                          env={**os.environ, **cli_env}, timeout=120)
    assert proc.returncode == 1 and "timeframe '7m'" in proc.stderr


def test_report_parameters_parse_like_papermill() -> None:
    assert parse_report_params(["-p", "symbol", "KRW-BTC", "-p", "days=3"]) == {"symbol": "KRW-BTC", "days": "3"}
    with pytest.raises(WorkbenchError, match="needs a name and a value"):
        parse_report_params(["-p", "symbol"])


def test_listing_commands_import_no_heavy_stack() -> None:
    """``--help`` and ``strategies`` start fast because they import neither pandas, numba, the database stack,
    plotly, papermill nor the settings (pydantic); ``--help`` not even rich (the start-up time itself is measured by benchmarks/bench_cli_startup.py)."""
    heavy = ("pandas", "numba", "sqlalchemy", "psycopg", "redis", "plotly", "papermill", "adbc_driver_postgresql",
             "pydantic", "rich")
    for args in (["--help"], ["strategies"]):
        if args == ["strategies"]:   # prints a rich table; typer converts its options with pydantic
            heavy = tuple(m for m in heavy if m not in ("rich", "pydantic"))
        code = ("import sys; from workbench.cli import main; sys.argv = ['workbench', *sys.argv[1:]]\n"
                "try:\n    main()\nexcept SystemExit:\n    pass\n"
                f"print('LOADED', [m for m in {heavy!r} if m in sys.modules])")
        proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)
        assert "LOADED []" in proc.stdout, (args, proc.stdout[-500:], proc.stderr[-500:])
    out = subprocess.run([sys.executable, "-c", "from workbench.cli import main; main()", "strategies"],
                         capture_output=True, text=True, timeout=120).stdout
    assert "EmaCross" in out and "fast=8, slow=21" in out


def test_risk_and_cost_option_defaults_are_the_engines_own() -> None:
    from dataclasses import asdict

    from workbench.backtest import BacktestConfig
    from workbench.cli import CONFIG_DEFAULTS, RISK_DEFAULTS
    from workbench.strategies import Risk

    risk = asdict(Risk())      # the CLI's risk options (exits and sizings beyond them are Python-only)
    assert set(RISK_DEFAULTS) == {"risk_per_trade", "max_positions", "stop_loss_pct", "take_profit_pct"}
    assert RISK_DEFAULTS == {k: risk[k] for k in RISK_DEFAULTS}
    config = asdict(BacktestConfig())
    assert CONFIG_DEFAULTS == {k: config[k] for k in CONFIG_DEFAULTS}
