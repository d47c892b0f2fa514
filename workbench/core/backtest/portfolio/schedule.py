"""Rebalance schedules: on which bars a portfolio trades towards its targets."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.errors import StrategyError

__all__ = ["rebalance_bars"]


def _period_keys(index: pd.DatetimeIndex, schedule: str) -> np.ndarray:
    utc = index.tz_convert("UTC")
    if schedule == "daily":
        return np.asarray(utc.year * 10_000 + utc.month * 100 + utc.day)
    if schedule == "weekly":  # ISO weeks, Monday to Sunday
        iso = utc.isocalendar()
        return np.asarray(iso["year"] * 100 + iso["week"], dtype=np.int64)
    if schedule == "monthly":
        return np.asarray(utc.year * 100 + utc.month)
    raise StrategyError(f"rebalance schedule {schedule!r} is not daily, weekly or monthly")


def rebalance_bars(index: pd.DatetimeIndex, schedule: str | int, decided: np.ndarray, begin: int = 0) -> np.ndarray:
    """Bars (booleans) on whose open a rebalance is due; decisions are made on the close before.

    ``schedule``: ``"signal"`` (the bar after every decided row), a whole number N (every N bars,
    counted from the first decided bar), ``"daily"``/``"weekly"``/``"monthly"`` (the first bar of each
    new UTC day / ISO week / month). Every schedule also trades on the first bar from ``begin`` on after
    a decision (so the portfolio is invested once its targets are known).
    """
    n = len(index)
    due = np.zeros(n, dtype=bool)
    if n < 2 or not decided.any():
        return due
    after = np.zeros(n, dtype=bool)     # bar i follows a decided bar
    after[1:] = decided[:-1]
    known = np.maximum.accumulate(after)  # some decision exists before bar i
    if schedule == "signal":
        due = after.copy()
    elif isinstance(schedule, int | np.integer) and not isinstance(schedule, bool):
        first = int(np.argmax(decided)) + 1
        steps = np.arange(n) - first
        due = (steps >= 0) & (steps % int(schedule) == 0)
    else:
        keys = _period_keys(index, str(schedule))
        due[1:] = keys[1:] != keys[:-1]
    due &= known
    due[:begin] = False
    first_due = np.flatnonzero(known[begin:])
    if first_due.size:
        due[begin + int(first_due[0])] = True
    return due
