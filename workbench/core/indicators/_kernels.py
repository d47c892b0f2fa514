"""Numba kernels and input plumbing shared by the indicator modules.

The kernels reproduce TA-Lib's algorithms step for step (same seeds, same
order of floating-point operations, same guards against flat windows), so
their output agrees with the ``talib`` package to within a few ulp and has
NaN exactly where TA-Lib has no output (its *lookback*).

Every kernel takes contiguous ``float64`` arrays and returns arrays of the
same length, NaN-filled over the warm-up. Each kernel processes its input
strictly from the first bar forward, so the value at bar ``t`` depends only
on bars ``0..t``.

The pure-Python helpers at the bottom validate the public functions' inputs
and mimic the ``talib`` wrapper's handling of leading NaNs.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np
import pandas as pd
from numba import njit

from workbench.errors import InputTypeError, ValidationError

__all__ = [
    "sma_kernel",
    "ema_kernel",
    "rsi_kernel",
    "true_range_kernel",
    "atr_kernel",
    "macd_kernel",
    "stoch_fast_k_kernel",
    "cci_kernel",
    "rolling_std_kernel",
    "obv_kernel",
    "session_vwap_kernel",
    "check_period",
    "check_finite",
    "series_inputs",
    "run_from_first_valid",
]

# TA-Lib's TA_EPSILON: a difference is treated as zero when it is within
# TA_EPSILON of the magnitude of its operands (TA_IS_ZERO_SCALED).
_TA_EPSILON = 1e-14


# --------------------------------------------------------------------------
# Moving averages
# --------------------------------------------------------------------------


@njit(cache=True)
def sma_kernel(x: np.ndarray, period: int) -> np.ndarray:
    """Simple moving average, TA-Lib's running-sum form (lookback period-1)."""
    n = x.shape[0]
    out = np.full(n, np.nan)
    if n < period:
        return out
    total = 0.0
    for i in range(period - 1):
        total += x[i]
    trailing = 0
    for i in range(period - 1, n):
        total += x[i]
        value = total
        total -= x[trailing]
        trailing += 1
        out[i] = value / period
    return out


@njit(cache=True)
def ema_kernel(x: np.ndarray, period: int) -> np.ndarray:
    """EMA with k=2/(period+1), seeded by the SMA of the first ``period`` values."""
    n = x.shape[0]
    out = np.full(n, np.nan)
    if n < period:
        return out
    k = 2.0 / (period + 1)
    total = 0.0
    for i in range(period):
        total += x[i]
    prev = total / period
    out[period - 1] = prev
    for i in range(period, n):
        prev = (x[i] - prev) * k + prev
        out[i] = prev
    return out


@njit(cache=True)
def macd_kernel(
    x: np.ndarray, fast: int, slow: int, signal: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MACD line, signal and histogram exactly as TA-Lib's TA_MACD (``fast < slow``).

    Both price EMAs are seeded on windows ending at bar ``slow-1`` (the fast
    EMA's seed is the mean of the ``fast`` values ending there); the signal
    EMA is seeded by the mean of the first ``signal`` MACD values. All three
    outputs start at bar ``slow-1 + signal-1``.
    """
    n = x.shape[0]
    line = np.full(n, np.nan)
    sig = np.full(n, np.nan)
    hist = np.full(n, np.nan)
    start = (slow - 1) + (signal - 1)
    if n <= start:
        return line, sig, hist
    fast_k = 2.0 / (fast + 1)
    slow_k = 2.0 / (slow + 1)
    signal_k = 2.0 / (signal + 1)

    today = 0
    slow_total = 0.0
    for _ in range(slow - fast):
        slow_total += x[today]
        today += 1
    prev_fast = 0.0
    for _ in range(fast):
        prev_fast += x[today]
        slow_total += x[today]
        today += 1
    prev_slow = slow_total / slow
    prev_fast = prev_fast / fast
    macd_value = prev_fast - prev_slow

    prev_signal = 0.0
    prev_signal += macd_value
    for _ in range(signal - 1):
        value = x[today]
        today += 1
        prev_fast = (value - prev_fast) * fast_k + prev_fast
        prev_slow = (value - prev_slow) * slow_k + prev_slow
        macd_value = prev_fast - prev_slow
        prev_signal += macd_value
    prev_signal = prev_signal / signal

    line[start] = macd_value
    sig[start] = prev_signal
    hist[start] = macd_value - prev_signal
    for i in range(start + 1, n):
        value = x[i]
        prev_fast = (value - prev_fast) * fast_k + prev_fast
        prev_slow = (value - prev_slow) * slow_k + prev_slow
        macd_value = prev_fast - prev_slow
        prev_signal = (macd_value - prev_signal) * signal_k + prev_signal
        line[i] = macd_value
        sig[i] = prev_signal
        hist[i] = macd_value - prev_signal
    return line, sig, hist


# --------------------------------------------------------------------------
# Oscillators
# --------------------------------------------------------------------------


@njit(cache=True)
def rsi_kernel(x: np.ndarray, period: int) -> np.ndarray:
    """Wilder RSI (lookback ``period``); 0 when there was neither gain nor loss."""
    n = x.shape[0]
    out = np.full(n, np.nan)
    if n <= period:
        return out
    prev_value = x[0]
    gain = 0.0
    loss = 0.0
    for i in range(1, period + 1):
        diff = x[i] - prev_value
        prev_value = x[i]
        if diff < 0.0:
            loss -= diff
        else:
            gain += diff
    loss /= period
    gain /= period
    total = gain + loss
    out[period] = 100.0 * (gain / total) if total > 0.0 else 0.0
    for i in range(period + 1, n):
        diff = x[i] - prev_value
        prev_value = x[i]
        loss *= period - 1
        gain *= period - 1
        if diff < 0.0:
            loss -= diff
        else:
            gain += diff
        loss /= period
        gain /= period
        total = gain + loss
        out[i] = 100.0 * (gain / total) if total > 0.0 else 0.0
    return out


@njit(cache=True)
def stoch_fast_k_kernel(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int) -> np.ndarray:
    """Un-smoothed stochastic %K (lookback period-1), 0 over a flat window.

    A window is flat when ``highest - lowest`` is within TA_EPSILON of
    ``|highest| + |lowest|`` (TA-Lib's scale-aware zero test).
    """
    n = close.shape[0]
    out = np.full(n, np.nan)
    if n < period:
        return out
    lowest_idx = -1
    highest_idx = -1
    lowest = 0.0
    highest = 0.0
    for today in range(period - 1, n):
        trailing = today - period + 1
        # Lowest low of the window, rescanned only when the extreme expires.
        tmp = low[today]
        if lowest_idx < trailing:
            lowest_idx = trailing
            lowest = low[lowest_idx]
            for i in range(lowest_idx + 1, today + 1):
                if low[i] < lowest:
                    lowest_idx = i
                    lowest = low[i]
        elif tmp <= lowest:
            lowest_idx = today
            lowest = tmp
        # Highest high of the window.
        tmp = high[today]
        if highest_idx < trailing:
            highest_idx = trailing
            highest = high[highest_idx]
            for i in range(highest_idx + 1, today + 1):
                if high[i] > highest:
                    highest_idx = i
                    highest = high[i]
        elif tmp >= highest:
            highest_idx = today
            highest = tmp
        spread = highest - lowest
        if abs(spread) <= _TA_EPSILON * (abs(highest) + abs(lowest)):
            out[today] = 0.0
        else:
            out[today] = ((close[today] - lowest) / spread) * 100.0
    return out


@njit(cache=True)
def cci_kernel(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int) -> np.ndarray:
    """Commodity Channel Index (lookback period-1), 0 over a flat window.

    Uses TA-Lib's circular buffer (same summation order) and its
    scale-aware flatness test against the window's mean typical price.
    """
    n = close.shape[0]
    out = np.full(n, np.nan)
    if n < period:
        return out
    buf = np.zeros(period)
    idx = 0
    for i in range(period - 1):
        buf[idx] = (high[i] + low[i] + close[i]) / 3
        idx += 1
        if idx >= period:
            idx = 0
    for i in range(period - 1, n):
        last = (high[i] + low[i] + close[i]) / 3
        buf[idx] = last
        average = 0.0
        for j in range(period):
            average += buf[j]
        average /= period
        mean_dev = 0.0
        for j in range(period):
            mean_dev += abs(buf[j] - average)
        mean_dev /= period
        deviation = last - average
        scale = _TA_EPSILON * abs(average)
        if abs(deviation) <= scale or abs(mean_dev) <= scale:
            out[i] = 0.0
        else:
            out[i] = deviation / (0.015 * mean_dev)
        idx += 1
        if idx >= period:
            idx = 0
    return out


# --------------------------------------------------------------------------
# Volatility
# --------------------------------------------------------------------------


@njit(cache=True)
def true_range_kernel(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """True range (lookback 1): the greatest of h-l, |c[-1]-h|, |c[-1]-l|."""
    n = close.shape[0]
    out = np.full(n, np.nan)
    for i in range(1, n):
        greatest = high[i] - low[i]
        val2 = abs(close[i - 1] - high[i])
        if val2 > greatest:
            greatest = val2
        val3 = abs(close[i - 1] - low[i])
        if val3 > greatest:
            greatest = val3
        out[i] = greatest
    return out


@njit(cache=True)
def atr_kernel(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int) -> np.ndarray:
    """Wilder ATR (lookback ``period``), seeded by the mean of the first ``period`` true ranges."""
    n = close.shape[0]
    tr = true_range_kernel(high, low, close)
    if period == 1:
        return tr
    out = np.full(n, np.nan)
    if n <= period:
        return out
    total = 0.0
    for i in range(1, period + 1):
        total += tr[i]
    prev = total / period
    out[period] = prev
    for i in range(period + 1, n):
        prev *= period - 1
        prev += tr[i]
        prev /= period
        out[i] = prev
    return out


@njit(cache=True)
def rolling_std_kernel(x: np.ndarray, period: int) -> np.ndarray:
    """Population standard deviation over a trailing window (lookback period-1).

    Corrected two-pass algorithm per window: exact 0 for a flat window and
    no catastrophic cancellation for large price levels.
    """
    n = x.shape[0]
    out = np.full(n, np.nan)
    if n < period:
        return out
    for i in range(period - 1, n):
        start = i - period + 1
        total = 0.0
        for j in range(start, i + 1):
            total += x[j]
        mean = total / period
        sum_dev = 0.0
        sum_sq = 0.0
        for j in range(start, i + 1):
            d = x[j] - mean
            sum_dev += d
            sum_sq += d * d
        variance = (sum_sq - sum_dev * sum_dev / period) / period
        out[i] = np.sqrt(variance) if variance > 0.0 else 0.0
    return out


# --------------------------------------------------------------------------
# Volume
# --------------------------------------------------------------------------


@njit(cache=True)
def obv_kernel(close: np.ndarray, volume: np.ndarray) -> np.ndarray:
    """On-balance volume (lookback 0), starting at the first bar's volume."""
    n = close.shape[0]
    out = np.full(n, np.nan)
    if n == 0:
        return out
    total = volume[0]
    prev = close[0]
    out[0] = total
    for i in range(1, n):
        value = close[i]
        if value > prev:
            total += volume[i]
        elif value < prev:
            total -= volume[i]
        out[i] = total
        prev = value
    return out


@njit(cache=True)
def session_vwap_kernel(
    session: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray
) -> np.ndarray:
    """Volume-weighted typical price, cumulated until ``session`` changes.

    A bar whose price or volume is NaN gets NaN and adds nothing; a session
    whose cumulated volume is still 0 gives NaN.
    """
    n = close.shape[0]
    out = np.full(n, np.nan)
    cum_pv = 0.0
    cum_v = 0.0
    for i in range(n):
        if i == 0 or session[i] != session[i - 1]:
            cum_pv = 0.0
            cum_v = 0.0
        typical = (high[i] + low[i] + close[i]) / 3.0
        vol = volume[i]
        if np.isnan(typical) or np.isnan(vol):
            continue
        cum_pv += typical * vol
        cum_v += vol
        if cum_v != 0.0:
            out[i] = cum_pv / cum_v
    return out


# --------------------------------------------------------------------------
# Input plumbing for the public functions (pure Python)
# --------------------------------------------------------------------------


def check_period(func: str, name: str, value: object, minimum: int = 1) -> int:
    """Return ``value`` as an int, or raise ValueError naming ``name`` if it is not an integer >= minimum."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValidationError(f"{func}: `{name}` must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValidationError(f"{func}: `{name}` must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_finite(func: str, name: str, value: object) -> float:
    """Return ``value`` as a float, or raise ValueError naming ``name`` if it is not a finite real number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(float(value)):
        raise ValidationError(f"{func}: `{name}` must be a finite number, got {value!r}")
    return float(value)


def series_inputs(func: str, **series: pd.Series) -> tuple[pd.Index, list[np.ndarray]]:
    """Check that the named inputs are Series on one index; return it and their float64 values.

    Raises
    ------
    TypeError
        If an input is not a pandas Series.
    ValueError
        If the inputs differ in length or index (the message names them).
    """
    items = list(series.items())
    for name, s in items:
        if not isinstance(s, pd.Series):
            raise InputTypeError(f"{func}: `{name}` must be a pandas Series, got {type(s).__name__}")
    first_name, first = items[0]
    for name, s in items[1:]:
        if len(s) != len(first):
            raise ValidationError(
                f"{func}: `{name}` has length {len(s)} but `{first_name}` has length {len(first)}"
            )
        if not s.index.equals(first.index):
            raise ValidationError(f"{func}: `{name}` and `{first_name}` must share the same index")
    arrays = [np.ascontiguousarray(s.to_numpy(dtype=np.float64, na_value=np.nan)) for _, s in items]
    return first.index, arrays


def run_from_first_valid(
    kernel: Callable[..., np.ndarray | tuple[np.ndarray, ...]],
    arrays: list[np.ndarray],
    *params: int | float,
) -> list[np.ndarray]:
    """Run ``kernel`` from the first bar where every input is non-NaN, as the talib wrapper does.

    Bars before that one are NaN in every output. Returns the outputs as a list.
    """
    n = arrays[0].shape[0]
    valid = np.ones(n, dtype=np.bool_)
    for a in arrays:
        valid &= ~np.isnan(a)
    begin = int(np.argmax(valid)) if n and valid.any() else n
    result = kernel(*[a[begin:] for a in arrays], *params)
    parts = list(result) if isinstance(result, tuple) else [result]
    if begin == 0:
        return parts
    outputs = []
    for part in parts:
        full = np.full(n, np.nan)
        full[begin:] = part
        outputs.append(full)
    return outputs
