"""Backtest settings: capital and Bithumb trading costs."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Final

from workbench.errors import ValidationError

__all__ = ["BITHUMB_FEE_RATE", "BacktestConfig"]

#: Bithumb's standard KRW-market trading fee (0.25 % of the traded value, per side, without coupons)
BITHUMB_FEE_RATE: Final = 0.0025


@dataclass(frozen=True, slots=True)
class BacktestConfig:
    """Costs and capital of a backtest.

    ``fee_rate`` and ``slippage`` are fractions of the traded value, per side. Orders fill at the
    next bar's open (plus slippage); stops fill at the stop price when a bar's range crosses it.
    """

    initial_capital: float = 10_000_000.0
    fee_rate: float = BITHUMB_FEE_RATE
    slippage: float = 0.0005

    def __post_init__(self) -> None:
        if not self.initial_capital > 0:
            raise ValidationError(f"initial_capital must be > 0 KRW (got {self.initial_capital})")
        if not 0 <= self.fee_rate < 0.1:
            raise ValidationError(f"fee_rate must be a fraction in [0, 0.1) (got {self.fee_rate})")
        if not 0 <= self.slippage < 0.1:
            raise ValidationError(f"slippage must be a fraction in [0, 0.1) (got {self.slippage})")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
