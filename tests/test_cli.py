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

from workbench.cli import app
from workbench.cli.params import parse_report_params
from workbench.errors import WorkbenchError


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _parse(out: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a rich table; a row's wrapped lines (first cell empty) joined with a space."""
    lines = [line for line in out.splitlines() if line.startswith(("┃", "│"))]
    cells = [[c.strip() for c in line.strip("┃│").split("┃" if line[0] == "┃" else "│")] for line in lines]
    header = cells[0]
    rows: list[list[str]] = []
    for row in cells[1:]:
        if rows and not row[0]:
            rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], row, strict=True)]
        else:
            rows.append(row)
    return header, rows


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
    # piped without COLUMNS: every column, one line per run, no wrapping
    header, rows = _parse(out)
    assert header == ["id", "strategy", "parameters", "symbol", "tf", "period (KST)", "return", "Sharpe", "max DD",
                      "trades", "split"]
    assert [(r[0], r[2], r[3], r[5]) for r in rows] == [
        ("3", "fast=5 slow=13", "KRW-SYNBTC", "2025-01-01→01-04"), ("2", "fast=3 slow=13", "KRW-SYNBTC",
                                                                    "2025-01-01→01-04"),
        ("1", "fast=5 slow=21", "SYNBTC+SYNETH", "2025-01-01→01-04")]
    # 80 columns: low-priority columns dropped and named, text wrapped between words, nothing broken
    narrow = CliRunner().invoke(app, ["runs"], env={"COLUMNS": "80"}, catch_exceptions=False).output
    assert max(len(line) for line in narrow.splitlines()) <= 80
    header, rows = _parse(narrow)
    assert header == ["id", "strategy", "parameters", "symbol", "tf", "return", "Sharpe", "max DD"]
    assert [(r[0], r[2], r[3]) for r in rows] == [("3", "fast=5 slow=13", "KRW-SYNBTC"),
                                                  ("2", "fast=3 slow=13", "KRW-SYNBTC"),
                                                  ("1", "fast=5 slow=21", "SYNBTC+SYNETH")]
    note = " ".join(narrow.split("┘\n")[1].split())
    assert note == "not shown for lack of width: period (KST), trades, split (--wide shows every column)"
    wide = CliRunner().invoke(app, ["runs", "--wide"], env={"COLUMNS": "80"}, catch_exceptions=False).output
    assert wide == out
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
        if args == ["strategies"]:   # prints a rich table
            heavy = tuple(m for m in heavy if m != "rich")
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

    from workbench.cli.options import CONFIG_DEFAULTS, FEE_PCT_DEFAULT, RISK_DEFAULTS, SLIPPAGE_PCT_DEFAULT
    from workbench.core.backtest import BacktestConfig
    from workbench.core.strategies import Risk

    risk = asdict(Risk())      # the CLI's risk options (exits and sizings beyond them are Python-only)
    assert set(RISK_DEFAULTS) == {"risk_per_trade", "max_positions", "stop_loss_pct", "take_profit_pct"}
    assert RISK_DEFAULTS == {k: risk[k] for k in RISK_DEFAULTS}
    config = asdict(BacktestConfig())
    assert CONFIG_DEFAULTS == {k: config[k] for k in CONFIG_DEFAULTS}
    assert (FEE_PCT_DEFAULT / 100, SLIPPAGE_PCT_DEFAULT / 100) == (config["fee_rate"], config["slippage"])


@pytest.mark.parametrize(("args", "message"), [
    (["--fee-pct", "10"], "--fee-pct 10 is out of range: give a percentage in [0, 10) (e.g. 0.25 for 0.25 %)"),
    (["--fee-pct", "-0.1"], "--fee-pct -0.1 is out of range: give a percentage in [0, 10) (e.g. 0.25 for 0.25 %)"),
    (["--slippage-pct", "5"], "--slippage-pct 5 means 5 % per side (10 % a round trip); add --yes-i-mean-it if "
                              "that is what you mean"),
    (["--stop-loss-pct", "0.02"], "--stop-loss-pct 0.02 means 0.02 % (not 2 %); add --yes-i-mean-it if that is "
                                  "what you mean"),
    (["--take-profit", "0.04"], "--take-profit-pct 0.04 means 0.04 % (not 4 %); add --yes-i-mean-it if that is "
                                "what you mean"),
    (["--risk-per-trade-pct", "0"], "--risk-per-trade-pct 0 is out of range: give a percentage in (0, 100] "
                                    "(e.g. 0.25 for 0.25 %)"),
    (["--risk-free-pct", "60"], "--risk-free-pct 60 is out of range: give a percentage in [-5, 50] "
                                "(e.g. 0.25 for 0.25 %)"),
])
def test_cost_and_risk_options_are_percent_and_checked(args: list[str], message: str) -> None:
    """Checked before anything connects: no database needed; the whole error line is pinned."""
    result = CliRunner().invoke(app, ["backtest", "EmaCross", *args])
    assert result.exit_code != 0
    assert str(result.exception) == message


def test_fractions_typed_as_percent_options_are_gone() -> None:
    result = CliRunner().invoke(app, ["backtest", "EmaCross", "--slippage", "0.05"])
    assert result.exit_code == 2 and "No such option: --slippage" in result.output


def test_confirmed_unusual_values_pass_converted() -> None:
    from workbench.cli.units import check_pct, fractions_from_pct

    assert fractions_from_pct(fee_pct=0.25, slippage_pct=5.0, risk_free_pct=3.5, confirmed=True) == {
        "fee_rate": 0.0025, "slippage": 0.05, "risk_free_rate": 0.035}
    assert check_pct("--stop-loss-pct", 0.02, confirmed=True) == 0.02
