"""Drawdown, defined once: the fall of the equity below its running peak.

One sign convention: a drawdown is a *negative* fraction (``-0.10`` = 10 % below the peak, 0 at a new
high), and the initial capital is the first peak, so a run whose first bar is already below its capital
starts under water. The ``max_drawdown`` metric is the depth of the deepest one as a positive fraction
(``-min(drawdown)``, the stored ``backtest_results.max_drawdown``; shown negative, ``-10.00%``).

Used by the metrics (:func:`~workbench.core.backtest.stats.compute_metrics`), ``BacktestResult.drawdown``
and every drawdown figure and table of :mod:`workbench.present`.

>>> import pandas as pd
>>> eq = pd.Series([95.0, 110.0, 99.0], index=pd.date_range("2025-01-01", periods=3, tz="UTC"))
>>> drawdown(eq, 100.0).round(2).tolist()
[-0.05, 0.0, -0.1]
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd
from numba import njit

from workbench.errors import ValidationError

__all__ = ["PERIOD_COLUMNS", "drawdown", "drawdown_periods", "max_drawdown", "underwater"]

#: the columns of :func:`drawdown_periods`
PERIOD_COLUMNS: Final = ("start", "valley", "end", "depth", "days", "recovered")


@njit(cache=True, nogil=True)
def _underwater(values: np.ndarray, initial: float) -> np.ndarray:  # pragma: no cover
    """One pass: each value's fall below the running peak, ``initial`` the first peak (NaN: none)."""
    out = np.empty(values.shape[0])
    peak = initial
    for i in range(values.shape[0]):
        v = values[i]
        if not v <= peak:   # a new high; also the first value when there is no initial peak (NaN)
            peak = v
        out[i] = v / peak - 1.0
    return out


@njit(cache=True, nogil=True)
def _deepest(dd: np.ndarray, stamps: np.ndarray) -> tuple[float, int]:  # pragma: no cover
    """One pass over a drawdown: its lowest value and the longest spell below 0 in ``stamps``' units,
    from the bar before it (bar 0 for a spell that starts there) to the bar at 0 again, or the last bar."""
    n = dd.shape[0]
    low = 0.0
    longest = 0
    begin = -1   # the bar a spell under water started from, -1 above water
    for i in range(n):
        if dd[i] < low:
            low = dd[i]
        if dd[i] < 0.0:
            if begin < 0:
                begin = max(i - 1, 0)
        elif begin >= 0:
            longest = max(longest, stamps[i] - stamps[begin])
            begin = -1
    if begin >= 0:
        longest = max(longest, stamps[n - 1] - stamps[begin])
    return low, longest


def underwater(values: np.ndarray, initial: float | None) -> np.ndarray:
    """The drawdown of each value (negative fractions, 0 at a peak) below the running peak, with
    ``initial`` (the initial capital) as the first peak; None: the first value is."""
    return _underwater(np.ascontiguousarray(values, dtype="float64"),
                       float("nan") if initial is None else float(initial))


def drawdown(equity: pd.Series, initial_capital: float | None) -> pd.Series:
    """``equity``'s drawdown per bar (:func:`underwater`), on its index, named ``drawdown``."""
    return pd.Series(underwater(equity.to_numpy(dtype="float64"), initial_capital), index=equity.index,
                     name="drawdown")


def max_drawdown(values: np.ndarray, stamps: np.ndarray, initial: float | None) -> tuple[float, float]:
    """``(depth, longest)`` of :func:`underwater`: the deepest drawdown as a positive fraction
    (``-min(drawdown)``, the ``max_drawdown`` metric) and the longest spell under water in ``stamps``'
    units, from the peak bar before it (the first bar for a spell that starts there) to the bar that
    regains the peak, or to the last bar (0 without one)."""
    if len(values) == 0:
        return 0.0, 0.0
    low, longest = _deepest(underwater(values, initial), np.ascontiguousarray(stamps, dtype=np.int64))
    return -low if low < 0 else 0.0, float(longest)


def drawdown_periods(equity: pd.Series, top: int = 5, *, initial: float | None = None) -> pd.DataFrame:
    """The ``top`` deepest drawdowns of ``equity``, deepest first.

    Columns: ``start`` (the peak before the fall; the first time when the fall starts there),
    ``valley`` (the lowest point), ``end`` (the first time the peak is regained; NaT while not
    recovered), ``depth`` (negative fraction), ``days`` (start to end, or to the last time when not
    recovered), ``recovered``. ``initial`` (the initial capital) counts as the first peak, as in
    :func:`drawdown` and the ``max_drawdown`` metric.
    """
    if not isinstance(equity, pd.Series):
        raise ValidationError(f"drawdown_periods: expected a Series, got {type(equity).__name__}")
    if len(equity) == 0:
        return pd.DataFrame(columns=list(PERIOD_COLUMNS))
    dd = underwater(equity.to_numpy(dtype="float64"), initial)
    edges = np.diff(np.r_[np.int8(0), (dd < 0).astype(np.int8), np.int8(0)])
    first, stop = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)   # spells: bars first:stop under
    index, n = equity.index, len(equity)
    rows = []
    for i, j in zip(first.tolist(), stop.tolist(), strict=True):
        start = max(i - 1, 0)
        valley = i + int(np.argmin(dd[i:j]))
        recovered = j < n
        last = index[j] if recovered else index[-1]
        rows.append({"start": index[start], "valley": index[valley], "end": index[j] if recovered else pd.NaT,
                     "depth": float(dd[valley]), "days": (last - index[start]) / pd.Timedelta(days=1),
                     "recovered": recovered})
    frame = pd.DataFrame(rows, columns=list(PERIOD_COLUMNS))
    return frame.sort_values("depth", kind="stable").head(top).reset_index(drop=True)
