"""Whole-frame indicator tables computed from an OHLCV DataFrame."""

from __future__ import annotations

import pandas as pd

from workbench.core.indicators.momentum import cci, rsi, stochastic
from workbench.core.indicators.trend import ema, macd, sma
from workbench.core.indicators.volatility import atr, bollinger, keltner
from workbench.core.indicators.volume import obv, volume_ma, vwap
from workbench.errors import InputTypeError, ValidationError

__all__ = [
    "OHLCV_COLUMNS",
    "INDICATOR_COLUMNS",
    "CANDLE_INDICATOR_COLUMNS",
    "compute_indicator_table",
    "candle_columns_of",
]

#: Columns an input frame must have.
OHLCV_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume")

_MA_PERIODS: tuple[int, ...] = (5, 10, 20, 50, 100, 200)
_EMA_PERIODS: tuple[int, ...] = (8, 13, 21, 50, 200)

#: Columns of :func:`compute_indicator_table`, in order.
INDICATOR_COLUMNS: tuple[str, ...] = (
    *(f"ma_{p}" for p in _MA_PERIODS),
    *(f"ema_{p}" for p in _EMA_PERIODS),
    "rsi_14",
    "stochastic_k",
    "stochastic_d",
    "macd_line",
    "macd_signal",
    "macd_histogram",
    "cci_20",
    "atr_14",
    "bollinger_upper",
    "bollinger_middle",
    "bollinger_lower",
    "keltner_upper",
    "keltner_middle",
    "keltner_lower",
    "volume_ma_20",
    "obv",
    "vwap",
)

#: Indicator columns stored alongside candles (``candles`` table), in order: ``vwap`` (Asia/Seoul
#: session), ``rsi`` (RSI 14), ``macd`` (MACD line 12/26/9) and the Bollinger (20, 2) bands.
CANDLE_INDICATOR_COLUMNS: tuple[str, ...] = (
    "vwap",
    "rsi",
    "macd",
    "bollinger_upper",
    "bollinger_middle",
    "bollinger_lower",
)


def _ohlcv(df: pd.DataFrame, func: str) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """Return the high, low, close and volume columns of ``df`` after checking all OHLCV columns exist."""
    if not isinstance(df, pd.DataFrame):
        raise InputTypeError(f"{func}: `df` must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in OHLCV_COLUMNS if c not in df.columns]
    if missing:
        raise ValidationError(f"{func}: `df` is missing column(s) {', '.join(repr(c) for c in missing)}")
    return df["high"], df["low"], df["close"], df["volume"]


def compute_indicator_table(df: pd.DataFrame) -> pd.DataFrame:
    """Compute the full indicator table of an OHLCV frame.

    Parameters
    ----------
    df : pandas.DataFrame
        Bars with a UTC ``DatetimeIndex`` named ``ts`` and float64 columns
        ``open high low close volume``.

    Returns
    -------
    pandas.DataFrame
        Exactly the columns of :data:`INDICATOR_COLUMNS`, in that order, on
        the index of ``df``: SMAs ``ma_5 .. ma_200`` and EMAs
        ``ema_8 .. ema_200`` of the close, RSI(14), slow stochastic
        (14, 3, 3), MACD (12, 26, 9), CCI(20), ATR(14), Bollinger (20, 2),
        Keltner (EMA 20, ATR 10, x2), 20-bar volume SMA, OBV and the
        Asia/Seoul session VWAP. Warm-up bars are NaN, as in TA-Lib.

    Raises
    ------
    ValueError
        If ``df`` lacks one of the OHLCV columns (the message names it), or
        its index is not a sorted timezone-aware DatetimeIndex.
    """
    high, low, close, volume = _ohlcv(df, "compute_indicator_table")
    columns: dict[str, pd.Series] = {}
    for p in _MA_PERIODS:
        columns[f"ma_{p}"] = sma(close, p)
    for p in _EMA_PERIODS:
        columns[f"ema_{p}"] = ema(close, p)
    columns["rsi_14"] = rsi(close, 14)
    stoch = stochastic(high, low, close, k_period=14, k_smooth=3, d_period=3)
    columns["stochastic_k"] = stoch["stochastic_k"]
    columns["stochastic_d"] = stoch["stochastic_d"]
    macd_frame = macd(close, fast=12, slow=26, signal=9)
    for name in ("macd_line", "macd_signal", "macd_histogram"):
        columns[name] = macd_frame[name]
    columns["cci_20"] = cci(high, low, close, 20)
    columns["atr_14"] = atr(high, low, close, 14)
    bands = bollinger(close, period=20, nbdev=2.0)
    for name in ("bollinger_upper", "bollinger_middle", "bollinger_lower"):
        columns[name] = bands[name]
    channel = keltner(high, low, close, period=20, atr_period=10, multiplier=2.0)
    for name in ("keltner_upper", "keltner_middle", "keltner_lower"):
        columns[name] = channel[name]
    columns["volume_ma_20"] = volume_ma(volume, 20)
    columns["obv"] = obv(close, volume)
    columns["vwap"] = vwap(high, low, close, volume, session_tz="Asia/Seoul")
    table = pd.DataFrame({name: columns[name].to_numpy() for name in INDICATOR_COLUMNS}, index=df.index)
    return table


#: candle column -> the indicator-table column holding the same values
CANDLE_COLUMN_SOURCES: dict[str, str] = {
    "vwap": "vwap",
    "rsi": "rsi_14",
    "macd": "macd_line",
    "bollinger_upper": "bollinger_upper",
    "bollinger_middle": "bollinger_middle",
    "bollinger_lower": "bollinger_lower",
}


def candle_columns_of(table: pd.DataFrame) -> pd.DataFrame:
    """The candle indicator columns (:data:`CANDLE_INDICATOR_COLUMNS`) taken from an already computed
    :func:`compute_indicator_table`, on its index."""
    return pd.DataFrame({name: table[CANDLE_COLUMN_SOURCES[name]] for name in CANDLE_INDICATOR_COLUMNS},
                        index=table.index)
