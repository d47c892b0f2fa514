"""A strategy in a user's file, by path:Name and --strategy-file, through every research command, the
lookahead gate (``workbench check``), paper trading and ``rerun`` (which refuses a changed file)."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workbench.cli import app

USER_FILE = '''
from workbench.core.indicators import sma
from workbench.core.strategies import Strategy, crossed_above, crossed_below, strategy


class SmaCross(Strategy):
    strategy_type = "swing_trading"
    defaults = {"fast": 5, "slow": 20}

    def generate(self, df):
        fast, slow = sma(df["close"], int(self.params["fast"])), sma(df["close"], int(self.params["slow"]))
        return crossed_above(fast, slow), crossed_below(fast, slow)


@strategy("dip_buyer", "swing_trading")
def dip_buyer(df, *, drop=0.01):
    change = df["close"].pct_change(3)
    return change < -drop, change > drop
'''

LEAKY_FILE = '''
from workbench.core.strategies import strategy


@strategy("peek", "day_trading")
def peek(df):
    nxt = df["close"].shift(-1)
    return nxt > df["close"], nxt < df["close"]
'''


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def main_exit(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from workbench.cli import main

    old = sys.argv
    sys.argv = ["workbench", *args]
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    else:
        code = 0
    finally:
        sys.argv = old
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_a_user_file_strategy_everywhere(cli_env: dict[str, str], session, tmp_path: Path,  # type: ignore[no-untyped-def]
                                         monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    user = tmp_path / "my_strategies.py"
    user.write_text(USER_FILE)
    (tmp_path / "leaky.py").write_text(LEAKY_FILE)
    run("sample", "--days", "4")

    out = run("backtest", "my_strategies.py:SmaCross", "--param", "fast=3", "--param", "slow=8")
    assert "stored as backtest_results.id 1" in out
    out = run("backtest", "dip_buyer", "--strategy-file", "my_strategies.py")
    assert "stored as backtest_results.id 2" in out
    run("sweep", "SmaCross", "--strategy-file", "my_strategies.py", "--grid", "fast=3,4", "--grid", "slow=8")
    run("walk-forward", "my_strategies.py:SmaCross", "--grid", "fast=3,4", "--grid", "slow=8", "--folds", "2")
    run("optimize", "SmaCross", "--strategy-file", "my_strategies.py", "--space", "fast=3:4", "--space",
        "slow=8:9", "--trials", "2", "--folds", "1", "--seed", "1")

    runs = session.runs(limit=100)
    assert set(runs["strategy"]) == {"SmaCross", "dip_buyer"}
    stored = session.run(1)
    assert stored["strategy_class"] == f"{user.resolve()}:SmaCross"
    sha = hashlib.sha256(user.read_bytes()).hexdigest()
    assert stored["parameters"]["source"] == {"file": str(user.resolve()), "sha256": sha}

    out = run("paper", "my_strategies.py:SmaCross", "--replay", "2025-01-01", "2025-01-03", "--param", "fast=3",
              "--param", "slow=8", "--no-exchange-rules")
    assert "paper run 1 (finished): 48 bars" in out

    code, out = main_exit(["check", "my_strategies.py:SmaCross", "--param", "fast=3", "--param", "slow=8"], capsys)
    assert code == 0, out
    assert out.strip().splitlines()[-1] == ("SmaCross: no lookahead (4 series unchanged at 29 cuts of 96 bars); "
                                            "decisions settle after 6 bars")
    code, out = main_exit(["check", "peek", "--strategy-file", "leaky.py"], capsys)
    assert code == 1
    assert out.strip().splitlines()[-1] == ("peek: LOOKAHEAD in entry, exit (up to 1 bar(s) ahead; 15 cuts of "
                                            "96 bars); decisions settle after 0 bars")
    rows = [line.split("│")[1:-1] for line in out.splitlines() if line.startswith("│ e")]
    assert [[c.strip() for c in r[:4]] for r in rows[:2]] == [["entry", "LEAK", "6 of 15", "1"],
                                                             ["exit", "LEAK", "9 of 15", "1"]]

    code, out = main_exit(["rerun", "1"], capsys)
    assert code == 0, out
    user.write_text(USER_FILE.replace("pct_change(3)", "pct_change(4)"))
    code, out = main_exit(["rerun", "1"], capsys)
    assert code == 1
    assert (f"error: backtest 1 ran the strategy file '{user.resolve()}' with sha256 {sha[:16]}…; the file now has "
            f"sha256 {hashlib.sha256(user.read_bytes()).hexdigest()[:16]}…: it changed") in out
