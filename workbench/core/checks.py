"""Checked numbers: the sane range of every number a user gives, in one place.

A :class:`Bound` checks a value (finite, a whole number where it must be one, inside its range) and
returns it as a plain ``float`` or ``int``, or raises :class:`~workbench.errors.ValidationError` with
one line naming the input, the range and the value. The Python API (``BacktestConfig``, ``Risk``,
strategy parameters, paper runs, ...) and the command line (option callbacks) use the same bounds, so
``--capital inf``, ``--speed 1e-300`` or ``--param fast=1e400`` are refused before anything is written.

>>> CAPITAL.check(5e6, "initial_capital")
5000000.0
>>> CAPITAL.check(float("inf"), "--capital")
Traceback (most recent call last):
...
workbench.errors.ValidationError: --capital must be a finite number > 0 and <= 1e+15 KRW (got inf)
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Final

from workbench.errors import ValidationError

__all__ = [
    "Bound",
    "CAPITAL",
    "CHUNK_SIZE",
    "COUNT",
    "FEE_RATE",
    "FOLDS",
    "FRACTION",
    "LIMIT",
    "MAX_BARS",
    "MAX_POLLS",
    "MAX_POSITIONS",
    "PAGES",
    "PARAMETER",
    "RECORD_ID",
    "PERIOD",
    "POLL_INTERVAL",
    "WATCH_INTERVAL",
    "RISK_PER_TRADE",
    "SAMPLE_DAYS",
    "SEED",
    "SIZE_STEP",
    "SLIPPAGE",
    "SPEED",
    "STOP_LOSS",
    "TAKE_PROFIT",
    "TRIALS",
    "WARMUP",
]


def _shown(value: object) -> str:
    """``repr(value)``, cut short when long (a 400-digit number)."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:30]}... ({len(text)} characters)"


def _fmt(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


@dataclass(frozen=True, slots=True)
class Bound:
    """A range ``[low, high]`` (each end open with ``low_open``/``high_open``; ``None``: unbounded) of
    finite numbers, whole numbers only with ``whole``; ``unit`` is named in the message."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    whole: bool = False
    unit: str = ""

    def describe(self) -> str:
        """``a finite number > 0 and <= 1e+15 KRW``."""
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.low_open else '>='} {_fmt(self.low)}")
        if self.high is not None:
            parts.append(f"{'<' if self.high_open else '<='} {_fmt(self.high)}")
        kind = "a whole number" if self.whole else "a finite number"
        text = f"{kind} {' and '.join(parts)}" if parts else kind
        return f"{text} {self.unit}" if self.unit else text

    def contains(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return False
        if isinstance(value, numbers.Integral):
            x: float = int(value)   # compared exactly, however large
        else:
            x = float(value)
            if not math.isfinite(x) or (self.whole and not x.is_integer()):
                return False
        if self.low is not None and (x <= self.low if self.low_open else x < self.low):
            return False
        return not (self.high is not None and (x >= self.high if self.high_open else x > self.high))

    def check(self, value: object, name: str) -> float:
        """``value`` as a float (an int for a whole-number bound), or ValidationError naming ``name``."""
        if not self.contains(value):
            raise ValidationError(f"{name} must be {self.describe()} (got {_shown(value)})")
        assert isinstance(value, numbers.Real)
        if self.whole:
            return int(value) if isinstance(value, numbers.Integral) else int(float(value))
        return float(value)

    def check_int(self, value: object, name: str) -> int:
        """As :meth:`check` for a whole-number bound, typed as ``int``."""
        return int(self.check(value, name))


#: costs and capital of a backtest or paper run (KRW; fractions of the traded value per side)
CAPITAL: Final = Bound(0, 1e15, low_open=True, unit="KRW")
FEE_RATE: Final = Bound(0, 0.1, high_open=True, unit="(fraction per side)")
SLIPPAGE: Final = Bound(0, 0.1, high_open=True, unit="(fraction per side)")
SIZE_STEP: Final = Bound(0, 1e9, unit="units")
#: risk settings, in percent
RISK_PER_TRADE: Final = Bound(0, 100, low_open=True, unit="%")
MAX_POSITIONS: Final = Bound(1, 1000, whole=True)
STOP_LOSS: Final = Bound(0, 100, high_open=True, unit="%")
TAKE_PROFIT: Final = Bound(0, 10_000, unit="%")
#: strategy parameters: any number, and periods/windows in bars
PARAMETER: Final = Bound(-1e12, 1e12)
PERIOD: Final = Bound(1, 1_000_000, whole=True, unit="bars")
#: paper runs
SPEED: Final = Bound(1e-3, 1e6, unit="x real time")
POLL_INTERVAL: Final = Bound(0, 86_400, low_open=True, unit="seconds")
WATCH_INTERVAL: Final = Bound(1, 86_400, unit="seconds")
MAX_POLLS: Final = Bound(1, 1e9, whole=True)
MAX_BARS: Final = Bound(0, 1e9, whole=True, unit="bars")
WARMUP: Final = Bound(1, 10_000, whole=True, unit="bars")
#: research and listings
SAMPLE_DAYS: Final = Bound(1, 3650, whole=True, unit="days")
LIMIT: Final = Bound(1, 1_000_000, whole=True, unit="rows")
CHUNK_SIZE: Final = Bound(1, 100_000, whole=True)
TRIALS: Final = Bound(1, 100_000, whole=True)
FOLDS: Final = Bound(1, 1000, whole=True)
FRACTION: Final = Bound(0, 1, low_open=True, high_open=True)
SEED: Final = Bound(0, 2**32 - 1, whole=True)
#: Bithumb requests
COUNT: Final = Bound(1, 10_000, whole=True)
PAGES: Final = Bound(1, 100_000, whole=True)
#: ids of stored rows (PostgreSQL bigint)
RECORD_ID: Final = Bound(1, 2**63 - 1, whole=True)
#: the report portal (workbench serve)
PORT: Final = Bound(1, 65535, whole=True)
SESSION_HOURS: Final = Bound(0, 8760, low_open=True, unit="hours")
