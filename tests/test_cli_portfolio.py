"""`workbench strategies` and `workbench backtest` with portfolio strategies: listed, run on several
symbols, stored in backtest_results (one row; the trade list in trade_history) and re-run bit for bit."""

from __future__ import annotations

import re

import numpy as np
from typer.testing import CliRunner

from workbench.cli import app
from workbench.core.strategies.portfolio import PORTFOLIO_STRATEGIES


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_strategies_lists_the_portfolio_builtins(cli_env: dict[str, str]) -> None:
    out = run("strategies")
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^│ (\w+) +│ (\w+) +│", out, re.MULTILINE)}
    assert {name: rows.get(name) for name in PORTFOLIO_STRATEGIES} == {
        "MomentumRotation": "swing_trading", "InverseVolatility": "long_term", "EqualWeight": "long_term"}


def test_backtest_a_portfolio_strategy(cli_env: dict[str, str], session) -> None:  # type: ignore[no-untyped-def]
    run("sample", "--days", "3")
    out = run("backtest", "MomentumRotation", "--symbols", "KRW-SYNBTC,KRW-SYNETH,KRW-SYNXRP",
              "--param", "lookback=12", "--param", "top=2", "--param", "rebalance=6")
    assert re.search(r"^stored as backtest_results\.id 1 \(run [0-9a-f-]{36}\)$", out, re.MULTILINE), out
    stored = session.run(1)
    assert stored["symbol"] == "SYNBTC+SYNETH+SYNXRP"
    assert stored["parameters"]["symbols"] == ["KRW-SYNBTC", "KRW-SYNETH", "KRW-SYNXRP"]
    assert stored["parameters"]["params"] == {"lookback": 12, "top": 2, "rebalance": 6, "threshold": 0.0}
    trades = stored["trade_history"]
    assert len(trades) == stored["total_trades"] > 0
    assert {t["exit_reason"] for t in trades} <= {"rebalance", "delisted", "end", ""}
    assert {t["symbol"] for t in trades} <= {"KRW-SYNBTC", "KRW-SYNETH", "KRW-SYNXRP"}
    # the trades' PnL adds up to the equity's change (open trades marked at the last close)
    np.testing.assert_allclose(sum(t["pnl"] for t in trades), stored["equity"].iloc[-1] - 10_000_000, rtol=1e-9)
    report = session.rerun(1)
    assert report.reproduced, report.table()


SYMBOLS = "KRW-SYNBTC,KRW-SYNETH,KRW-SYNXRP"


def _candles(session) -> dict:  # type: ignore[no-untyped-def]
    return {s: session.candles(s, "1h") for s in SYMBOLS.split(",")}


def test_sweep_of_a_portfolio_strategy_stores_each_combination(cli_env: dict[str, str], session) -> None:  # type: ignore[no-untyped-def]
    """Each stored row is the backtest of its parameters on the same candles."""
    from workbench.core.backtest import run_backtest
    from workbench.core.strategies.portfolio import MomentumRotation

    run("sample", "--days", "4")
    run("sweep", "MomentumRotation", "--symbols", SYMBOLS, "--grid", "lookback=6,12", "--grid", "top=1,2",
        "--grid", "rebalance=6,daily")
    runs = session.runs()
    assert len(runs) == 8 and runs["sweep_id"].nunique() == 1 and set(runs["symbol"]) == {"SYNBTC+SYNETH+SYNXRP"}
    data = _candles(session)
    for bid in runs["id"]:
        stored = session.run(int(bid))
        params = stored["parameters"]["params"]
        alone = run_backtest(data, MomentumRotation(**params))
        assert stored["equity"].to_numpy().tolist() == alone.equity.to_numpy().tolist()
        assert stored["total_trades"] == alone.metrics.total_trades
    assert {(p["lookback"], p["top"], p["rebalance"]) for p in
            (session.run(int(b))["parameters"]["params"] for b in runs["id"])} == {
        (lb, top, rb) for lb in (6, 12) for top in (1, 2) for rb in (6, "daily")}


def test_walk_forward_and_optimize_of_a_portfolio_strategy(cli_env: dict[str, str], session) -> None:  # type: ignore[no-untyped-def]
    run("sample", "--days", "4")
    run("walk-forward", "MomentumRotation", "--symbols", SYMBOLS, "--grid", "lookback=6,12", "--grid", "top=1,2",
        "--grid", "rebalance=6", "--train-bars", "48", "--test-bars", "12")
    runs = session.runs().sort_values("id")
    assert list(runs["split"]) == ["out_of_sample"] * 4 + ["walk_forward"]
    assert set(runs["symbol"]) == {"SYNBTC+SYNETH+SYNXRP"}
    # 96 bars: training on bars 0..47, four 12-bar test windows tiling bars 48..95
    spans = [(f"{a:%d %H:%M}", f"{b:%d %H:%M}") for a, b in zip(runs["start_date"], runs["end_date"], strict=True)]
    assert spans == [("03 00:00", "03 11:00"), ("03 12:00", "03 23:00"), ("04 00:00", "04 11:00"),
                     ("04 12:00", "04 23:00"), ("03 00:00", "04 23:00")]
    for bid in runs["id"].iloc[:4]:                  # each fold ends flat (close_at_end): no open trade
        assert {t["status"] for t in session.run(int(bid))["trade_history"]} <= {"closed"}
    run("optimize", "MomentumRotation", "--symbols", SYMBOLS, "--space", "lookback=2:6", "--space", "top=1:2",
        "--space", "rebalance=2,3", "--trials", "3", "--study", "mom", "--seed", "1", "--metric", "total_return")
    best = session.runs().sort_values("id").tail(2)         # the best trial, in and out of sample
    assert list(best["split"]) == ["in_sample", "out_of_sample"]
    assert set(best["symbol"]) == {"SYNBTC+SYNETH+SYNXRP"}
    assert session.rerun(int(best["id"].iloc[1])).reproduced
