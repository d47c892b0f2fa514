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
