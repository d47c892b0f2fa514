"""``workbench strategies`` lists the strategies from a static catalog (no numpy, pandas or pydantic imported):
the catalog is the strategy classes' own description, and installed entry points are still listed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workbench.cli import app
from workbench.cli.catalog import BUILTIN_CATALOG, ENTRY_POINT_GROUP, entry_points_declared, strategy_catalog

USER_STRATEGY = '''
from workbench.core.strategies import Strategy


class Breakout(Strategy):
    strategy_type = "day_trading"
    defaults = {"window": 20, "margin": 0.5}
    description = "channel breakout"

    def generate(self, df):
        high = df["high"].rolling(int(self.params["window"])).max().shift(1)
        return df["close"] > high, df["close"] < high
'''


def _installed(tmp_path: Path, entry_points: str) -> Path:
    """A package on sys.path (added by the caller) that declares ``entry_points`` (entry_points.txt text)."""
    (tmp_path / "wbtest_catalog_strats.py").write_text(USER_STRATEGY)
    info = tmp_path / "wbtest_catalog-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: wbtest-catalog\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points)
    return tmp_path


def test_the_catalog_describes_the_builtin_classes() -> None:
    """Same names in the same order, same types, same defaults (value AND type: 30.0 is not 30), same
    descriptions as the classes: the listing cannot drift from the strategies."""
    from workbench.core.strategies import BUILTIN_STRATEGIES, PORTFOLIO_STRATEGIES
    from workbench.core.strategies.registry import ENTRY_POINT_GROUP as REGISTRY_GROUP

    classes = {**BUILTIN_STRATEGIES, **PORTFOLIO_STRATEGIES}
    assert [s.name for s in BUILTIN_CATALOG] == list(classes)
    for info in BUILTIN_CATALOG:
        cls = classes[info.name]
        assert (info.strategy_type, info.description) == (cls.strategy_type, cls.description), info.name
        assert [(k, repr(v)) for k, v in info.defaults.items()] == [(k, repr(v)) for k, v in cls.defaults.items()]
    assert ENTRY_POINT_GROUP == REGISTRY_GROUP


def test_no_entry_point_declares_strategies_here() -> None:
    assert entry_points_declared() is False
    assert strategy_catalog() == list(BUILTIN_CATALOG)


def test_an_installed_entry_point_is_listed_after_the_builtins(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(_installed(tmp_path, "[console_scripts]\nx = y:z\n")))
    assert entry_points_declared() is False   # other groups do not count
    (tmp_path / "wbtest_catalog-0.1.dist-info" / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nbreakout = wbtest_catalog_strats:Breakout\n")
    assert entry_points_declared() is True
    listed = strategy_catalog()
    assert listed[:-1] == list(BUILTIN_CATALOG)
    assert tuple(listed[-1]) == ("breakout", "day_trading", {"window": 20, "margin": 0.5}, "channel breakout")
    out = CliRunner().invoke(app, ["strategies"], env={"COLUMNS": "200"}, catch_exceptions=False).output
    rows = [[c.strip() for c in line.strip("│").split("│")] for line in out.splitlines() if line.startswith("│")]
    assert rows[-1] == ["breakout", "day_trading", "window=20, margin=0.5", "channel breakout"]
    assert [r[0] for r in rows[:-1]] == [s.name for s in BUILTIN_CATALOG]


def test_listing_strategies_imports_no_numpy_pandas_or_pydantic() -> None:
    """In a fresh process, as a user runs it (no user strategies installed): the whole table, and none of
    the heavy modules loaded, nor the other commands' modules (the time itself:
    benchmarks/bench_cli_startup.py)."""
    code = ("import sys; from workbench.cli import main; sys.argv = ['workbench', 'strategies']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('LOADED', sorted(m for m in ('numpy', 'pandas', 'numba', 'pydantic', 'sqlalchemy', "
            "'importlib.metadata', 'workbench.cli.research', 'workbench.cli.options') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200"})
    assert proc.stdout.splitlines()[-1] == "LOADED []", proc.stderr[-2000:]
    rows = [[c.strip() for c in line.strip("│").split("│")] for line in proc.stdout.splitlines()
            if line.startswith("│")]
    assert rows == [["RsiReversion", "scalping", "period=14, oversold=30.0, exit_level=55.0",
                     "RSI mean reversion on short bars"],
                    ["BollingerReversion", "scalping", "period=20, nbdev=2.0", "Bollinger band mean reversion"],
                    ["EmaCross", "day_trading", "fast=8, slow=21", "EMA crossover"],
                    ["MacdTrend", "swing_trading", "fast=12, slow=26, signal=9, trend=100",
                     "MACD crossover with an EMA trend filter"],
                    ["GoldenCross", "long_term", "fast=50, slow=200", "SMA golden cross / death cross"],
                    ["MomentumRotation", "swing_trading", "lookback=168, top=5, rebalance=weekly, threshold=0.0",
                     "momentum top-N rotation across the universe"],
                    ["InverseVolatility", "long_term", "window=168, rebalance=weekly, threshold=0.0",
                     "inverse-volatility weights across the universe"],
                    ["EqualWeight", "long_term", "rebalance=1, threshold=0.05",
                     "equal weight with threshold rebalancing"]]
