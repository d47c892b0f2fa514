"""Bithumb-specific symbol and time helpers; canonical forms live in :mod:`workbench.core.markets`.

Bithumb aligns its 4h/6h/12h/1d/1w candles to Korean time (KST, UTC+9): a ``1d`` candle opens
at 00:00 KST = 15:00 UTC of the previous day, a ``1w`` candle on Monday 00:00 KST.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from workbench.core.markets import TIMEFRAMES, normalize_symbol, normalize_timeframe

__all__ = ["KST_OFFSET", "TIMEFRAMES", "normalize_symbol", "normalize_timeframe", "to_legacy_pair"]

#: Korea Standard Time offset from UTC (no daylight saving).
KST_OFFSET: Final = timedelta(hours=9)


def to_legacy_pair(symbol: str) -> str:
    """Return the legacy ``/public`` API pair for ``symbol``: ``"KRW-BTC"`` -> ``"BTC_KRW"``.

    >>> to_legacy_pair("btc")
    'BTC_KRW'
    """
    base = normalize_symbol(symbol).split("-", 1)[1]
    return f"{base}_KRW"
