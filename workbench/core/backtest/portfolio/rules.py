"""Bithumb's order rules as a portfolio backtest applies them: minimum order value and the price tick grid
(the lot is ``BacktestConfig.size_step``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from workbench.core.markets import KRW_TICKS
from workbench.errors import ValidationError

__all__ = ["ExchangeRules"]


@dataclass(frozen=True, slots=True)
class ExchangeRules:
    """``min_order_krw``: orders worth less are skipped (a sale of a whole position is not; 0: no
    minimum); ``tick_sizes``: fill prices on the KRW tick grid ``ticks`` (buys rounded up, sells down).
    The default is Bithumb's (5,000 KRW, :data:`workbench.core.markets.KRW_TICKS`); :meth:`off` applies none."""

    min_order_krw: float = 5_000.0
    tick_sizes: bool = True
    ticks: tuple[tuple[float, float], ...] = KRW_TICKS

    def __post_init__(self) -> None:
        if not self.min_order_krw >= 0:
            raise ValidationError(f"min_order_krw must be >= 0 KRW (got {self.min_order_krw})")
        floors = [f for f, _ in self.ticks]
        if not self.ticks or floors != sorted(floors, reverse=True) or any(t <= 0 for _, t in self.ticks):
            raise ValidationError(f"ticks must be (floor, tick > 0) pairs, highest floor first (got {self.ticks})")

    @classmethod
    def off(cls) -> ExchangeRules:
        """No exchange rules: any size, any price."""
        return cls(min_order_krw=0.0, tick_sizes=False)

    def tick_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(floors, ticks) for the kernel; empty when ``tick_sizes`` is off."""
        if not self.tick_sizes:
            return np.zeros(0), np.zeros(0)
        return (np.array([f for f, _ in self.ticks], dtype=np.float64),
                np.array([t for _, t in self.ticks], dtype=np.float64))

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["ticks"] = [list(t) for t in self.ticks]
        return d
