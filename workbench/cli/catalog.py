"""``workbench strategies``: the strategies listed without importing them (numpy): a static description of
the built-in strategies (tests/test_cli_catalog.py checks it against the classes, so the two cannot drift),
and the strategies of installed entry points, loaded only when some installed package declares one. A
module of its own: listing builds no other command's options.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NamedTuple

import typer

from workbench.cli.base import App
from workbench.cli.context import CliContext
from workbench.cli.tables import rows_table

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["BUILTIN_CATALOG", "ENTRY_POINT_GROUP", "StrategyInfo", "entry_points_declared", "strategies",
           "strategy_catalog"]

#: the entry-point group of installed strategies (:data:`workbench.core.strategies.registry.ENTRY_POINT_GROUP`)
ENTRY_POINT_GROUP: Final = "workbench.core.strategies"

#: the command, merged into the root
app = App()


class StrategyInfo(NamedTuple):
    """A strategy as listed: name, type, parameter defaults and one line of description."""

    name: str
    strategy_type: str
    defaults: dict[str, Any]
    description: str


#: the built-in strategies, per-symbol then portfolio, as :mod:`workbench.core.strategies` defines them
BUILTIN_CATALOG: Final = (
    StrategyInfo("RsiReversion", "scalping", {"period": 14, "oversold": 30.0, "exit_level": 55.0},
                 "RSI mean reversion on short bars"),
    StrategyInfo("BollingerReversion", "scalping", {"period": 20, "nbdev": 2.0}, "Bollinger band mean reversion"),
    StrategyInfo("EmaCross", "day_trading", {"fast": 8, "slow": 21}, "EMA crossover"),
    StrategyInfo("MacdTrend", "swing_trading", {"fast": 12, "slow": 26, "signal": 9, "trend": 100},
                 "MACD crossover with an EMA trend filter"),
    StrategyInfo("GoldenCross", "long_term", {"fast": 50, "slow": 200}, "SMA golden cross / death cross"),
    StrategyInfo("MomentumRotation", "swing_trading",
                 {"lookback": 168, "top": 5, "rebalance": "weekly", "threshold": 0.0},
                 "momentum top-N rotation across the universe"),
    StrategyInfo("InverseVolatility", "long_term", {"window": 168, "rebalance": "weekly", "threshold": 0.0},
                 "inverse-volatility weights across the universe"),
    StrategyInfo("EqualWeight", "long_term", {"rebalance": 1, "threshold": 0.05},
                 "equal weight with threshold rebalancing"),
)


def _entry_point_files() -> Iterator[Path]:
    for entry in sys.path:
        try:
            found = [p for p in Path(entry or ".").iterdir() if p.name.endswith((".dist-info", ".egg-info"))]
        except OSError:   # not a directory (a zip file) or gone
            continue
        yield from (p / "entry_points.txt" for p in found)


def entry_points_declared(group: str = ENTRY_POINT_GROUP) -> bool:
    """Whether an installed package may declare an entry point of ``group``: a quick look at the
    ``entry_points.txt`` of the distributions on ``sys.path`` (where :mod:`importlib.metadata` finds them),
    so that the full look-up (a tenth of a second) is made only when one names the group."""
    header = f"[{group}]"
    for path in _entry_point_files():
        try:
            if header in path.read_text(encoding="utf-8"):
                return True
        except (OSError, UnicodeDecodeError):
            continue
    return False


def strategy_catalog() -> list[StrategyInfo]:
    """The built-in strategies, then those of installed entry points (imported only if any is declared)."""
    found = list(BUILTIN_CATALOG)
    if entry_points_declared():
        from workbench.core.strategies.registry import available_strategies

        known = {s.name for s in found}
        found += [StrategyInfo(name, cls.strategy_type, dict(cls.defaults), cls.description)
                  for name, cls in available_strategies().items() if name not in known]
    return found


@app.command()
def strategies(ctx: typer.Context) -> None:
    """List the strategies (built-in per-symbol, built-in portfolio, installed entry points) and their
    parameters."""
    rows = [[s.name, s.strategy_type, ", ".join(f"{k}={v}" for k, v in s.defaults.items()), s.description]
            for s in strategy_catalog()]
    CliContext.of(ctx).show(rows_table("strategies", ["name", "type", "parameters", "description"], rows,
                                       priority={"name": 3, "type": 2, "parameters": 1}), wide_option=False)
