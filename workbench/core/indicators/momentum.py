"""Momentum oscillators: RSI, stochastic, CCI."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.core.indicators._kernels import (
    cci_kernel,
    check_period,
    rsi_kernel,
    run_from_first_valid,
    series_inputs,
    sma_kernel,
    stoch_fast_k_kernel,
)
from workbench.core.indicators._memo import memoized

__all__ = ["rsi", "stochastic", "cci"]


@memoized
def rsi(close: pd.Series, period: int = 14) -> pd.Series:
    """Wilder's Relative Strength Index, 0..100 (= ``talib.RSI``).

    Average gain and loss are seeded by the plain mean of the first
    ``period`` price changes and then smoothed as
    ``avg = (avg * (period - 1) + change) / period``. A window with neither
    gain nor loss (a perfectly flat market) gives 0, as in TA-Lib.

    Parameters
    ----------
    close : pandas.Series
        Close prices, float64-convertible.
    period : int, default 14
        Smoothing period, >= 2.

    Returns
    -------
    pandas.Series
        Same index as ``close``, named ``rsi_{period}``; the first
        ``period`` bars are NaN.

    Raises
    ------
    ValueError
        If ``period`` is not an integer >= 2.
    """
    period = check_period("rsi", "period", period, 2)
    index, arrays = series_inputs("rsi", close=close)
    (values,) = run_from_first_valid(rsi_kernel, arrays, period)
    return pd.Series(values, index=index, name=f"rsi_{period}")


def _stochastic_kernel(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, k_period: int, k_smooth: int, d_period: int
) -> tuple[np.ndarray, np.ndarray]:
    """Slow %K and %D arrays, NaN where TA-Lib's STOCH has no output."""
    n = close.shape[0]
    slow_k = np.full(n, np.nan)
    slow_d = np.full(n, np.nan)
    start = (k_period - 1) + (k_smooth - 1) + (d_period - 1)
    if n <= start:
        return slow_k, slow_d
    fast_k = stoch_fast_k_kernel(high, low, close, k_period)
    k_begin = k_period - 1
    smoothed_k = np.full(n, np.nan)
    smoothed_k[k_begin:] = sma_kernel(fast_k[k_begin:], k_smooth)
    d_begin = k_begin + k_smooth - 1
    slow_d[d_begin:] = sma_kernel(smoothed_k[d_begin:], d_period)
    slow_k[start:] = smoothed_k[start:]
    return slow_k, slow_d


@memoized
def stochastic(
    high: pd.Series,
    low: pd.Series,
    close: pd.Series,
    *,
    k_period: int = 14,
    k_smooth: int = 3,
    d_period: int = 3,
) -> pd.DataFrame:
    """Slow stochastic oscillator %K / %D, 0..100 (= ``talib.STOCH`` with SMA smoothing).

    Fast %K is ``100 * (close - lowest low) / (highest high - lowest low)``
    over ``k_period`` bars; ``stochastic_k`` is its ``k_smooth``-bar SMA and
    ``stochastic_d`` the ``d_period``-bar SMA of ``stochastic_k``. A flat
    window (highest high equal to lowest low, up to TA-Lib's relative
    epsilon) gives a fast %K of 0, as in TA-Lib. Both columns start at bar
    ``k_period - 1 + k_smooth - 1 + d_period - 1``.

    Parameters
    ----------
    high, low, close : pandas.Series
        Bar prices on one index.
    k_period : int, default 14
        Look-back window of the fast %K, >= 1.
    k_smooth : int, default 3
        SMA period turning fast %K into slow %K, >= 1.
    d_period : int, default 3
        SMA period of %D, >= 1.

    Returns
    -------
    pandas.DataFrame
        Columns ``stochastic_k``, ``stochastic_d`` on the index of ``close``.

    Raises
    ------
    ValueError
        If a period is not an integer >= 1, or the inputs are not aligned.
    """
    k_period = check_period("stochastic", "k_period", k_period, 1)
    k_smooth = check_period("stochastic", "k_smooth", k_smooth, 1)
    d_period = check_period("stochastic", "d_period", d_period, 1)
    index, arrays = series_inputs("stochastic", close=close, high=high, low=low)
    close_a, high_a, low_a = arrays
    slow_k, slow_d = run_from_first_valid(
        _stochastic_kernel, [high_a, low_a, close_a], k_period, k_smooth, d_period
    )
    return pd.DataFrame({"stochastic_k": slow_k, "stochastic_d": slow_d}, index=index)


@memoized
def cci(high: pd.Series, low: pd.Series, close: pd.Series, period: int = 20) -> pd.Series:
    """Commodity Channel Index (= ``talib.CCI``).

    ``(tp - SMA(tp)) / (0.015 * mean absolute deviation of tp)`` with the
    typical price ``tp = (high + low + close) / 3`` over ``period`` bars.
    A flat window gives 0, as in TA-Lib.

    Parameters
    ----------
    high, low, close : pandas.Series
        Bar prices on one index.
    period : int, default 20
        Window length, >= 2.

    Returns
    -------
    pandas.Series
        Same index as ``close``, named ``cci_{period}``; the first
        ``period - 1`` bars are NaN.

    Raises
    ------
    ValueError
        If ``period`` is not an integer >= 2, or the inputs are not aligned.
    """
    period = check_period("cci", "period", period, 2)
    index, arrays = series_inputs("cci", close=close, high=high, low=low)
    close_a, high_a, low_a = arrays
    (values,) = run_from_first_valid(cci_kernel, [high_a, low_a, close_a], period)
    return pd.Series(values, index=index, name=f"cci_{period}")
