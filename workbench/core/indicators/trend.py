"""Trend indicators: simple and exponential moving averages, MACD."""

from __future__ import annotations

import pandas as pd

from workbench.core.indicators._kernels import (
    check_period,
    ema_kernel,
    macd_kernel,
    run_from_first_valid,
    series_inputs,
    sma_kernel,
)
from workbench.core.indicators._memo import memoized
from workbench.errors import ValidationError

__all__ = ["sma", "ema", "macd"]


@memoized
def sma(close: pd.Series, period: int) -> pd.Series:
    """Simple moving average of ``close`` over ``period`` bars (= ``talib.SMA``).

    Parameters
    ----------
    close : pandas.Series
        Input values (usually close prices), float64-convertible.
    period : int
        Window length, >= 1.

    Returns
    -------
    pandas.Series
        Same index as ``close``, named ``sma_{period}``; the first
        ``period - 1`` bars are NaN.

    Raises
    ------
    ValueError
        If ``period`` is not an integer >= 1.
    """
    period = check_period("sma", "period", period, 1)
    index, arrays = series_inputs("sma", close=close)
    (values,) = run_from_first_valid(sma_kernel, arrays, period)
    return pd.Series(values, index=index, name=f"sma_{period}")


@memoized
def ema(close: pd.Series, period: int) -> pd.Series:
    """Exponential moving average of ``close`` (= ``talib.EMA``).

    The smoothing factor is ``k = 2 / (period + 1)`` and the recursion is
    seeded by the simple average of the first ``period`` values, placed at
    bar ``period - 1``.

    Parameters
    ----------
    close : pandas.Series
        Input values (usually close prices), float64-convertible.
    period : int
        EMA period, >= 1.

    Returns
    -------
    pandas.Series
        Same index as ``close``, named ``ema_{period}``; the first
        ``period - 1`` bars are NaN.

    Raises
    ------
    ValueError
        If ``period`` is not an integer >= 1.
    """
    period = check_period("ema", "period", period, 1)
    index, arrays = series_inputs("ema", close=close)
    (values,) = run_from_first_valid(ema_kernel, arrays, period)
    return pd.Series(values, index=index, name=f"ema_{period}")


@memoized
def macd(close: pd.Series, *, fast: int = 12, slow: int = 26, signal: int = 9) -> pd.DataFrame:
    """Moving Average Convergence/Divergence (= ``talib.MACD``).

    ``macd_line`` is EMA(fast) - EMA(slow), ``macd_signal`` the EMA(signal)
    of the line and ``macd_histogram`` their difference. As in TA-Lib, both
    price EMAs are seeded on windows ending at bar ``slow - 1`` (so the fast
    EMA is *not* the stand-alone ``ema(close, fast)`` until its seed has
    decayed), and all three columns start at bar ``slow - 1 + signal - 1``.

    Parameters
    ----------
    close : pandas.Series
        Input values (usually close prices), float64-convertible.
    fast : int, default 12
        Fast EMA period, >= 2 and smaller than ``slow``.
    slow : int, default 26
        Slow EMA period, >= 2.
    signal : int, default 9
        Signal EMA period, >= 1.

    Returns
    -------
    pandas.DataFrame
        Columns ``macd_line``, ``macd_signal``, ``macd_histogram`` on the
        index of ``close``.

    Raises
    ------
    ValueError
        If a period is out of range or ``fast >= slow`` (TA-Lib would
        silently swap them).
    """
    fast = check_period("macd", "fast", fast, 2)
    slow = check_period("macd", "slow", slow, 2)
    signal = check_period("macd", "signal", signal, 1)
    if fast >= slow:
        raise ValidationError(f"macd: `fast` ({fast}) must be smaller than `slow` ({slow})")
    index, arrays = series_inputs("macd", close=close)
    line, sig, hist = run_from_first_valid(macd_kernel, arrays, fast, slow, signal)
    return pd.DataFrame(
        {"macd_line": line, "macd_signal": sig, "macd_histogram": hist},
        index=index,
    )
