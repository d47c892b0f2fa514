"""Strategies: the base class, the ``@strategy`` decorator and the built-ins."""

from workbench.strategies.base import (
    SIZINGS,
    STRATEGY_TYPES,
    Risk,
    Strategy,
    StrategyType,
    crossed_above,
    crossed_below,
    strategy,
)
from workbench.strategies.builtin import (
    BUILTIN_STRATEGIES,
    BollingerReversion,
    EmaCross,
    GoldenCross,
    MacdTrend,
    RsiReversion,
    builtin_strategy,
)
from workbench.strategies.orders import Orders

__all__ = [
    "BUILTIN_STRATEGIES",
    "SIZINGS",
    "STRATEGY_TYPES",
    "BollingerReversion",
    "EmaCross",
    "GoldenCross",
    "MacdTrend",
    "Orders",
    "Risk",
    "RsiReversion",
    "Strategy",
    "StrategyType",
    "crossed_above",
    "crossed_below",
    "builtin_strategy",
    "strategy",
]
