"""Technical indicators whose values match TA-Lib.

Every function takes pandas Series (bars on a UTC ``DatetimeIndex``) and
returns a Series or DataFrame on the same index. Warm-up bars are NaN
exactly where TA-Lib has no output, and the value at a bar never depends on
later bars.
"""

from __future__ import annotations

from workbench.core.indicators._memo import IndicatorCacheStats, indicator_cache
from workbench.core.indicators._record import record_indicators, track
from workbench.core.indicators.momentum import cci, rsi, stochastic
from workbench.core.indicators.table import (
    CANDLE_INDICATOR_COLUMNS,
    INDICATOR_COLUMNS,
    OHLCV_COLUMNS,
    candle_columns_of,
    compute_indicator_table,
)
from workbench.core.indicators.trend import ema, macd, sma
from workbench.core.indicators.volatility import atr, bollinger, keltner, true_range
from workbench.core.indicators.volume import obv, volume_ma, vwap

__all__ = [
    "IndicatorCacheStats",
    "indicator_cache",
    "record_indicators",
    "track",
    "sma",
    "ema",
    "macd",
    "rsi",
    "stochastic",
    "cci",
    "atr",
    "true_range",
    "bollinger",
    "keltner",
    "obv",
    "volume_ma",
    "vwap",
    "compute_indicator_table",
    "candle_columns_of",
    "INDICATOR_COLUMNS",
    "CANDLE_INDICATOR_COLUMNS",
    "OHLCV_COLUMNS",
]
