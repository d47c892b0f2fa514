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

    ``fee_rate`` and ``slippage`` are fractions of the traded value, per side; slippage moves every fill
    against the trader (buys higher, sells lower). ``size_step`` rounds position sizes down to whole
    multiples (e.g. ``1`` for whole units, ``0.0001`` for Bithumb's BTC precision; ``0``: no rounding).
    The fill rules are in the README ("Fill rules").
    """

    initial_capital: float = 10_000_000.0
    fee_rate: float = BITHUMB_FEE_RATE
    slippage: float = 0.0005
    size_step: float = 0.0
    volume_share: float = 0.0

    def __post_init__(self) -> None:
        if not self.initial_capital > 0:
            raise ValidationError(f"initial_capital must be > 0 KRW (got {self.initial_capital})")
        if not 0 <= self.fee_rate < 0.1:
            raise ValidationError(f"fee_rate must be a fraction in [0, 0.1) (got {self.fee_rate})")
        if not 0 <= self.slippage < 0.1:
            raise ValidationError(f"slippage must be a fraction in [0, 0.1) (got {self.slippage})")
        if not 0 <= self.size_step < float("inf"):
            raise ValidationError(f"size_step must be >= 0 units (got {self.size_step})")
        if not 0 <= self.volume_share <= 1:
            raise ValidationError(f"volume_share must be a fraction of the bar's volume in [0, 1] "
                                  f"(got {self.volume_share})")

    def to_dict(self) -> dict[str, Any]:
        """The settings (``volume_share`` only when set, so runs without it store what they always did)."""
        d = asdict(self)
        if not self.volume_share:
            del d["volume_share"]
        return d
