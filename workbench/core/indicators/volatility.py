"""Volatility indicators: true range, ATR, Bollinger and Keltner bands."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.core.indicators._kernels import (
    atr_kernel,
    check_finite,
    check_period,
    ema_kernel,
    rolling_std_kernel,
    run_from_first_valid,
    series_inputs,
    sma_kernel,
    true_range_kernel,
)
from workbench.core.indicators._memo import memoized

__all__ = ["true_range", "atr", "bollinger", "keltner"]


@memoized
def true_range(high: pd.Series, low: pd.Series, close: pd.Series) -> pd.Series:
    """True range: the greatest of high-low, |prev close-high|, |prev close-low| (= ``talib.TRANGE``).

    Parameters
    ----------
    high, low, close : pandas.Series
        Bar prices on one index.

    Returns
    -------
    pandas.Series
        Same index as ``close``, named ``true_range``; the first bar is NaN
        (it has no previous close).

    Raises
    ------
    ValueError
        If the inputs are not aligned.
    """
    index, arrays = series_inputs("true_range", close=close, high=high, low=low)
    close_a, high_a, low_a = arrays
    (values,) = run_from_first_valid(true_range_kernel, [high_a, low_a, close_a])
    return pd.Series(values, index=index, name="true_range")


@memoized
def atr(high: pd.Series, low: pd.Series, close: pd.Series, period: int = 14) -> pd.Series:
    """Wilder's Average True Range (= ``talib.ATR``).

    Seeded by the mean of the first ``period`` true ranges (bars 1..period)
    and smoothed as ``atr = (atr * (period - 1) + tr) / period``.

    Parameters
    ----------
    high, low, close : pandas.Series
        Bar prices on one index.
    period : int, default 14
        Smoothing period, >= 1 (1 gives the true range itself).

    Returns
    -------
    pandas.Series
        Same index as ``close``, named ``atr_{period}``; the first
        ``period`` bars are NaN.

    Raises
    ------
    ValueError
        If ``period`` is not an integer >= 1, or the inputs are not aligned.
    """
    period = check_period("atr", "period", period, 1)
    index, arrays = series_inputs("atr", close=close, high=high, low=low)
    close_a, high_a, low_a = arrays
    (values,) = run_from_first_valid(atr_kernel, [high_a, low_a, close_a], period)
    return pd.Series(values, index=index, name=f"atr_{period}")


def _bollinger_kernel(x: np.ndarray, period: int, nbdev: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Upper, middle and lower band arrays."""
    middle = sma_kernel(x, period)
    width = rolling_std_kernel(x, period) * nbdev
    return middle + width, middle, middle - width


@memoized
def bollinger(close: pd.Series, *, period: int = 20, nbdev: float = 2.0) -> pd.DataFrame:
    """Bollinger bands (= ``talib.BBANDS`` with an SMA middle band).

    The middle band is the ``period``-bar SMA; the outer bands are offset by
    ``nbdev`` population standard deviations of the same window.

    Parameters
    ----------
    close : pandas.Series
        Close prices, float64-convertible.
    period : int, default 20
        Window length, >= 2.
    nbdev : float, default 2.0
        Band width in standard deviations (finite).

    Returns
    -------
    pandas.DataFrame
        Columns ``bollinger_upper``, ``bollinger_middle``,
        ``bollinger_lower`` on the index of ``close``; the first
        ``period - 1`` bars are NaN.

    Raises
    ------
    ValueError
        If ``period`` is not an integer >= 2 or ``nbdev`` is not finite.
    """
    period = check_period("bollinger", "period", period, 2)
    nbdev = check_finite("bollinger", "nbdev", nbdev)
    index, arrays = series_inputs("bollinger", close=close)
    upper, middle, lower = run_from_first_valid(_bollinger_kernel, arrays, period, nbdev)
    return pd.DataFrame(
        {"bollinger_upper": upper, "bollinger_middle": middle, "bollinger_lower": lower},
        index=index,
    )


@memoized
def keltner(
    high: pd.Series,
    low: pd.Series,
    close: pd.Series,
    *,
    period: int = 20,
    atr_period: int = 10,
    multiplier: float = 2.0,
) -> pd.DataFrame:
    """Keltner channel: EMA middle line with ATR-wide bands (not in TA-Lib).

    ``keltner_middle`` is ``ema(close, period)`` and the bands are
    ``middle ± multiplier * atr(high, low, close, atr_period)``; a bar is
    NaN until both the EMA and the ATR are defined.

    Parameters
    ----------
    high, low, close : pandas.Series
        Bar prices on one index.
    period : int, default 20
        EMA period of the middle line, >= 1.
    atr_period : int, default 10
        ATR period of the band width, >= 1.
    multiplier : float, default 2.0
        Band width in ATRs (finite).

    Returns
    -------
    pandas.DataFrame
        Columns ``keltner_upper``, ``keltner_middle``, ``keltner_lower`` on
        the index of ``close``. The middle line is defined from bar
        ``period - 1``, the bands from bar ``max(period - 1, atr_period)``.

    Raises
    ------
    ValueError
        If a period is not an integer >= 1, ``multiplier`` is not finite, or
        the inputs are not aligned.
    """
    period = check_period("keltner", "period", period, 1)
    atr_period = check_period("keltner", "atr_period", atr_period, 1)
    multiplier = check_finite("keltner", "multiplier", multiplier)
    index, arrays = series_inputs("keltner", close=close, high=high, low=low)
    close_a, high_a, low_a = arrays
    (middle,) = run_from_first_valid(ema_kernel, [close_a], period)
    (atr_values,) = run_from_first_valid(atr_kernel, [high_a, low_a, close_a], atr_period)
    width = atr_values * multiplier
    upper = middle + width
    lower = middle - width
    return pd.DataFrame(
        {"keltner_upper": upper, "keltner_middle": middle, "keltner_lower": lower},
        index=index,
    )
