"""The CLI's cost and risk options, all in percent (``--fee-pct 0.25`` = 0.25 %), checked and turned into
the library's units: :class:`~workbench.core.backtest.BacktestConfig` takes fractions (``fee_rate=0.0025``),
:class:`~workbench.core.strategies.Risk` percent (``stop_loss_pct=2.0``).

A value outside its range is rejected with the option named. Values that are allowed but almost always a
mistake (slippage of 5 % or more per side; a stop loss or take profit below 0.1 %, usually a fraction
typed where percent is meant) need ``--yes-i-mean-it``.

>>> fractions_from_pct(fee_pct=0.25, slippage_pct=0.05, risk_free_pct=3.5)
{'fee_rate': 0.0025, 'slippage': 0.0005, 'risk_free_rate': 0.035}
"""

from __future__ import annotations

from typing import Final

from workbench.errors import ValidationError

__all__ = ["CONFIRM_FLAG", "PCT_RANGES", "check_pct", "fractions_from_pct"]

#: the flag that confirms an unusual value
CONFIRM_FLAG: Final = "--yes-i-mean-it"
#: option -> (lowest, highest) allowed value in percent; the lowest is allowed, the highest is not
#: (``--risk-per-trade-pct``: (0, 100], and the risk-free rate may reach its highest)
PCT_RANGES: Final[dict[str, tuple[float, float]]] = {
    "--fee-pct": (0.0, 10.0), "--slippage-pct": (0.0, 10.0), "--stop-loss-pct": (0.0, 100.0),
    "--take-profit-pct": (0.0, 1000.0), "--risk-per-trade-pct": (0.0, 100.0), "--risk-free-pct": (-5.0, 50.0)}
#: slippage per side from which a run needs CONFIRM_FLAG
SLIPPAGE_CONFIRM_PCT: Final = 5.0
#: a nonzero stop loss / take profit below this (percent) looks like a fraction: needs CONFIRM_FLAG
TINY_EXIT_PCT: Final = 0.1


def _pct(value: float) -> str:
    return f"{value:g}"


def check_pct(option: str, value: float, *, confirmed: bool = False) -> float:
    """``value`` (percent) of ``option`` if it is in range (see :data:`PCT_RANGES`), else ValidationError."""
    low, high = PCT_RANGES[option]
    ok = (low < value <= high) if option == "--risk-per-trade-pct" else (
        low <= value <= high if option == "--risk-free-pct" else low <= value < high)
    if not ok:
        bounds = {"--risk-per-trade-pct": f"in (0, {_pct(high)}]", "--risk-free-pct": f"in [{_pct(low)}, "
                  f"{_pct(high)}]"}.get(option, f"in [{_pct(low)}, {_pct(high)})")
        raise ValidationError(f"{option} {_pct(value)} is out of range: give a percentage {bounds} "
                              f"(e.g. 0.25 for 0.25 %)")
    if confirmed:
        return value
    if option == "--slippage-pct" and value >= SLIPPAGE_CONFIRM_PCT:
        raise ValidationError(f"--slippage-pct {_pct(value)} means {_pct(value)} % per side ({_pct(2 * value)} % a "
                              f"round trip); add {CONFIRM_FLAG} if that is what you mean")
    if option in ("--stop-loss-pct", "--take-profit-pct") and 0 < value < TINY_EXIT_PCT:
        raise ValidationError(f"{option} {_pct(value)} means {_pct(value)} % (not {_pct(value * 100)} %); add "
                              f"{CONFIRM_FLAG} if that is what you mean")
    return value


def fractions_from_pct(*, fee_pct: float, slippage_pct: float, risk_free_pct: float = 0.0,
                       confirmed: bool = False) -> dict[str, float]:
    """The BacktestConfig fields (fractions) of the percent options, each checked by :func:`check_pct`."""
    return {"fee_rate": check_pct("--fee-pct", fee_pct) / 100.0,
            "slippage": check_pct("--slippage-pct", slippage_pct, confirmed=confirmed) / 100.0,
            "risk_free_rate": check_pct("--risk-free-pct", risk_free_pct) / 100.0}
