"""Volume indicators: on-balance volume, volume moving average, session VWAP."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.core.indicators._kernels import (
    check_period,
    obv_kernel,
    run_from_first_valid,
    series_inputs,
    session_vwap_kernel,
    sma_kernel,
)
from workbench.core.indicators._memo import memoized
from workbench.errors import ValidationError

__all__ = ["obv", "volume_ma", "vwap"]


@memoized
def obv(close: pd.Series, volume: pd.Series) -> pd.Series:
    """On-balance volume (= ``talib.OBV``).

    Starts at the first bar's volume; each later bar adds its volume when
    the close rose, subtracts it when the close fell, and keeps the total
    when the close is unchanged.

    Parameters
    ----------
    close, volume : pandas.Series
        Close prices and traded volume on one index.

    Returns
    -------
    pandas.Series
        Same index as ``close``, named ``obv``; no warm-up.

    Raises
    ------
    ValueError
        If the inputs are not aligned.
    """
    index, arrays = series_inputs("obv", close=close, volume=volume)
    (values,) = run_from_first_valid(obv_kernel, arrays)
    return pd.Series(values, index=index, name="obv")


@memoized
def volume_ma(volume: pd.Series, period: int = 20) -> pd.Series:
    """Simple moving average of traded volume (= ``talib.SMA`` on volume).

    Parameters
    ----------
    volume : pandas.Series
        Traded volume, float64-convertible.
    period : int, default 20
        Window length, >= 1.

    Returns
    -------
    pandas.Series
        Same index as ``volume``, named ``volume_ma_{period}``; the first
        ``period - 1`` bars are NaN.

    Raises
    ------
    ValueError
        If ``period`` is not an integer >= 1.
    """
    period = check_period("volume_ma", "period", period, 1)
    index, arrays = series_inputs("volume_ma", volume=volume)
    (values,) = run_from_first_valid(sma_kernel, arrays, period)
    return pd.Series(values, index=index, name=f"volume_ma_{period}")


def _session_keys(index: pd.Index, session_tz: str) -> np.ndarray:
    """Integer key of the calendar day, in ``session_tz``, of every timestamp of ``index``."""
    if not isinstance(index, pd.DatetimeIndex):
        raise ValidationError(f"vwap: the inputs need a DatetimeIndex, got {type(index).__name__}")
    if index.tz is None:
        raise ValidationError("vwap: the inputs' DatetimeIndex must be timezone-aware (UTC)")
    if not index.is_monotonic_increasing:
        raise ValidationError("vwap: the inputs' DatetimeIndex must be sorted in increasing order")
    try:
        local = index.tz_convert(session_tz)
    except Exception as exc:  # unknown zone names raise various zoneinfo / pytz errors
        raise ValidationError(f"vwap: `session_tz` is not a known time zone: {session_tz!r}") from exc
    # Wall-clock day in the session zone; only equality between neighbours matters.
    return np.ascontiguousarray(local.tz_localize(None).floor("D").asi8, dtype=np.int64)


@memoized
def vwap(
    high: pd.Series,
    low: pd.Series,
    close: pd.Series,
    volume: pd.Series,
    *,
    session_tz: str = "Asia/Seoul",
) -> pd.Series:
    """Session volume-weighted average price, reset at local midnight (not in TA-Lib).

    The typical price ``(high + low + close) / 3`` is weighted by volume and
    cumulated bar by bar within each calendar day of ``session_tz``
    (Bithumb trades in Korea, hence ``Asia/Seoul``). Bars before the first
    traded volume of a session (cumulated volume 0) are NaN; a bar with a
    NaN price or volume is NaN and does not contribute.

    Parameters
    ----------
    high, low, close, volume : pandas.Series
        Bar prices and volume on one timezone-aware, increasing
        ``DatetimeIndex``.
    session_tz : str, default "Asia/Seoul"
        IANA time zone whose midnight starts a new session.

    Returns
    -------
    pandas.Series
        Same index as ``close``, named ``vwap``.

    Raises
    ------
    ValueError
        If the inputs are not aligned, the index is not a sorted
        timezone-aware DatetimeIndex, or ``session_tz`` is unknown.
    """
    if not isinstance(session_tz, str) or not session_tz:
        raise ValidationError(f"vwap: `session_tz` must be a time zone name, got {session_tz!r}")
    index, arrays = series_inputs("vwap", close=close, high=high, low=low, volume=volume)
    close_a, high_a, low_a, volume_a = arrays
    keys = _session_keys(index, session_tz)
    values = session_vwap_kernel(keys, high_a, low_a, close_a, volume_a)
    return pd.Series(values, index=index, name="vwap")
