"""Portfolio backtests: target weights across the universe, one cash account (pure: no I/O)."""

from workbench.core.backtest.portfolio.engine import (
    ORDER_COLUMNS,
    ORDER_REASONS,
    PortfolioResult,
    PortfolioSimulation,
    decision_targets,
    listing_bounds,
    portfolio_bars,
    portfolio_result,
    run_portfolio_backtest,
    simulate_portfolio,
)
from workbench.core.backtest.portfolio.rules import ExchangeRules
from workbench.core.backtest.portfolio.schedule import rebalance_bars

__all__ = [
    "ORDER_COLUMNS",
    "ORDER_REASONS",
    "ExchangeRules",
    "PortfolioResult",
    "PortfolioSimulation",
    "decision_targets",
    "listing_bounds",
    "portfolio_bars",
    "portfolio_result",
    "rebalance_bars",
    "run_portfolio_backtest",
    "simulate_portfolio",
]
