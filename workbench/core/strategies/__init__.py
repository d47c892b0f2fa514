"""Strategies: the base class, the ``@strategy`` decorator and the built-ins."""

from workbench.core.strategies.base import (
    SIZINGS,
    STRATEGY_TYPES,
    Risk,
    Strategy,
    StrategyType,
    crossed_above,
    crossed_below,
    strategy,
)
from workbench.core.strategies.builtin import (
    BUILTIN_STRATEGIES,
    BollingerReversion,
    EmaCross,
    GoldenCross,
    MacdTrend,
    RsiReversion,
    builtin_strategy,
)
from workbench.core.strategies.lookahead import LookaheadReport, check_strategy
from workbench.core.strategies.orders import Orders
from workbench.core.strategies.portfolio import PORTFOLIO_STRATEGIES, PortfolioStrategy
from workbench.core.strategies.registry import load_strategy_file, make_strategy, resolve_strategy
from workbench.core.strategies.timeframes import align_higher, higher_timeframe, resample_bars

__all__ = [
    "BUILTIN_STRATEGIES",
    "PORTFOLIO_STRATEGIES",
    "SIZINGS",
    "STRATEGY_TYPES",
    "BollingerReversion",
    "EmaCross",
    "GoldenCross",
    "LookaheadReport",
    "MacdTrend",
    "PortfolioStrategy",
    "Orders",
    "Risk",
    "RsiReversion",
    "Strategy",
    "StrategyType",
    "crossed_above",
    "crossed_below",
    "align_higher",
    "builtin_strategy",
    "check_strategy",
    "higher_timeframe",
    "load_strategy_file",
    "make_strategy",
    "resample_bars",
    "resolve_strategy",
    "strategy",
]
