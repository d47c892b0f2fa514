"""``workbench walk-forward`` (modes, bar counts, summary with the overfitting figures) and ``backtest
--benchmark/--risk-free-pct`` against the test database."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from workbench.cli import app
from workbench.ingest.sample import generate_sample_candles
from workbench.store.writer import write_table


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False, terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output


def _rows(out: str) -> dict[str, str]:
    """``figure │ value`` rows of the summary table."""
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if len(cells) == 2 and cells[0]:
            rows[cells[0]] = cells[1]
    return rows


@pytest.fixture
def loaded(session):  # type: ignore[no-untyped-def]
    write_table(session.db, "candles", generate_sample_candles(days=4))
    return session


def test_walk_forward_anchored_with_bar_counts(cli_env: dict[str, str], loaded) -> None:  # type: ignore[no-untyped-def]
    out = run("walk-forward", "EmaCross", "--grid", "fast=3,5", "--grid", "slow=13", "--symbols", "KRW-SYNBTC",
              "--mode", "anchored", "--train-bars", "48", "--test-bars", "12")
    rows = _rows(out)
    assert rows["mode"] == "anchored: each fold trains on every bar before its test window"
    assert rows["folds"] == "4" and rows["first training window"] == "48 bars"
    assert rows["tested (out of sample)"] == "48 bars, every bar after the first training window"
    assert rows["grid trials"] == "2"
    assert re.fullmatch(r"\d{1,3}%", rows["stitched deflated Sharpe ratio"]), rows
    assert re.fullmatch(r"\d{1,3}%", rows["grid deflated Sharpe ratio"]), rows
    runs = loaded.runs().sort_values("id")
    assert list(runs["split"]) == ["out_of_sample"] * 4 + ["walk_forward"]
    # 96 1h bars from Jan 1 00:00: training on bars 0..47, then four 12-bar test windows tiling bars 48..95
    spans = [(f"{a:%d %H:%M}", f"{b:%d %H:%M}") for a, b in zip(runs["start_date"], runs["end_date"], strict=True)]
    assert spans == [("03 00:00", "03 11:00"), ("03 12:00", "03 23:00"), ("04 00:00", "04 11:00"),
                     ("04 12:00", "04 23:00"), ("03 00:00", "04 23:00")]


def test_backtest_benchmark_and_risk_free_rate_options(cli_env: dict[str, str], loaded) -> None:  # type: ignore[no-untyped-def]
    out = run("backtest", "EmaCross", "--symbols", "KRW-SYNETH", "--benchmark", "KRW-SYNBTC",
              "--risk-free-pct", "3.5")
    assert _rows(out)["benchmark"] == "KRW-SYNBTC"
    stored = loaded.run(int(loaded.runs()["id"].iloc[0]))["backtest_config"]
    assert (stored["benchmark"], stored["risk_free_rate"]) == ("KRW-SYNBTC", 0.035)
    out = run("backtest", "EmaCross", "--symbols", "KRW-SYNETH", "--benchmark", "none", "--no-store")
    assert _rows(out)["benchmark"] == "none" and _rows(out)["Buy & hold return"] == "–"
