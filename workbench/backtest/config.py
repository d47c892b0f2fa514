"""Backtest settings: capital and Bithumb trading costs."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Final

from workbench.checks import CAPITAL, FEE_RATE, SIZE_STEP, SLIPPAGE

__all__ = ["BITHUMB_FEE_RATE", "BacktestConfig"]

#: Bithumb's standard KRW-market trading fee (0.25 % of the traded value, per side, without coupons)
BITHUMB_FEE_RATE: Final = 0.0025


@dataclass(frozen=True, slots=True)
class BacktestConfig:
    """Costs and capital of a backtest.

    ``fee_rate`` and ``slippage`` are fractions of the traded value, per side; slippage moves every fill
    against the trader (buys higher, sells lower). ``size_step`` rounds position sizes down to whole
    multiples (e.g. ``1`` for whole units, ``0.0001`` for Bithumb's BTC precision; ``0``: no rounding).
    The fill rules are in the README ("Fill rules").
    """

    initial_capital: float = 10_000_000.0
    fee_rate: float = BITHUMB_FEE_RATE
    slippage: float = 0.0005
    size_step: float = 0.0

    def __post_init__(self) -> None:
        CAPITAL.check(self.initial_capital, "initial_capital")
        FEE_RATE.check(self.fee_rate, "fee_rate")
        SLIPPAGE.check(self.slippage, "slippage")
        SIZE_STEP.check(self.size_step, "size_step")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
