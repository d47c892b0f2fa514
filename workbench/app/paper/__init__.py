"""Paper trading: stored strategies run forward on replayed or live candles, and reconciliation of
their trades with the backtest (see README "Paper trading and reconciliation")."""

from workbench.core.paper.engine import Fill, PaperBroker, Position, Skip
from workbench.core.paper.rules import KRW_TICKS, OrderRules, round_price, round_quantity, tick_size

__all__ = ["KRW_TICKS", "Fill", "OrderRules", "PaperBroker", "Position", "Skip", "round_price", "round_quantity",
           "tick_size"]
