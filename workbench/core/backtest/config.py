"""Backtest settings: capital, Bithumb trading costs, the benchmark and the risk-free rate."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Final

from workbench.core.checks import CAPITAL, FEE_RATE, SIZE_STEP, SLIPPAGE
from workbench.core.markets import normalize_symbol
from workbench.errors import ValidationError

__all__ = ["BENCHMARK_KINDS", "BITHUMB_FEE_RATE", "BacktestConfig"]

#: benchmarks that are not one symbol: equal-weight buy & hold of the traded symbols, or no benchmark
BENCHMARK_KINDS: Final = ("equal-weight", "none")

#: Bithumb's standard KRW-market trading fee (0.25 % of the traded value, per side, without coupons)
BITHUMB_FEE_RATE: Final = 0.0025


@dataclass(frozen=True, slots=True)
class BacktestConfig:
    """Costs and capital of a backtest.

    ``fee_rate`` and ``slippage`` are fractions of the traded value, per side; slippage moves every fill
    against the trader (buys higher, sells lower). ``size_step`` rounds position sizes down to whole
    multiples (e.g. ``1`` for whole units, ``0.0001`` for Bithumb's BTC precision; ``0``: no rounding).
    The fill rules are in the README ("Fill rules").

    ``benchmark`` is what the run is compared with: ``"equal-weight"`` buy & hold of the traded symbols
    (the default), one symbol's buy & hold (e.g. ``"KRW-BTC"``, traded or not) or ``"none"``.
    ``risk_free_rate`` is an annual rate as a fraction (0.035 = 3.5 %) that Sharpe, Sortino and alpha
    subtract (compounded to a daily rate).
    """

    initial_capital: float = 10_000_000.0
    fee_rate: float = BITHUMB_FEE_RATE
    slippage: float = 0.0005
    size_step: float = 0.0
    benchmark: str = "equal-weight"
    risk_free_rate: float = 0.0
    volume_share: float = 0.0

    def __post_init__(self) -> None:
        CAPITAL.check(self.initial_capital, "initial_capital")
        FEE_RATE.check(self.fee_rate, "fee_rate")
        SLIPPAGE.check(self.slippage, "slippage")
        SIZE_STEP.check(self.size_step, "size_step")
        if not 0 <= self.volume_share <= 1:
            raise ValidationError(f"volume_share must be a fraction of the bar's volume in [0, 1] "
                                  f"(got {self.volume_share})")
        if not -0.05 <= self.risk_free_rate <= 0.5:
            raise ValidationError(f"risk_free_rate must be an annual fraction in [-0.05, 0.5], e.g. 0.035 for "
                                  f"3.5 % (got {self.risk_free_rate})")
        if not isinstance(self.benchmark, str):
            raise ValidationError(f"benchmark must be 'equal-weight', 'none' or a symbol (got {self.benchmark!r})")
        kind = self.benchmark.strip().lower()
        object.__setattr__(self, "benchmark", kind if kind in BENCHMARK_KINDS else normalize_symbol(self.benchmark))

    @property
    def benchmark_symbol(self) -> str | None:
        """The benchmark's symbol when it is one symbol's buy & hold, else None."""
        return None if self.benchmark in BENCHMARK_KINDS else self.benchmark

    def to_dict(self) -> dict[str, object]:
        """The settings (``volume_share`` only when set, so runs without it store what they always did)."""
        d = asdict(self)
        if not self.volume_share:
            del d["volume_share"]
        return d
