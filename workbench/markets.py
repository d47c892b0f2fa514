"""Symbols, timeframes and time ranges: validation and canonical forms.

Canonical symbol: ``KRW-BTC`` (quote-base, as Bithumb's v1 API). Canonical timeframes:
``1m 3m 5m 10m 15m 30m 1h 4h 6h 12h 1d 1w``. Times are UTC; naive datetimes are taken as UTC.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Final, TypeAlias

import pandas as pd

from workbench.errors import ValidationError

__all__ = [
    "KRW_TICKS",
    "BUCKET_ORIGIN",
    "TIMEFRAMES",
    "TimeLike",
    "normalize_symbol",
    "normalize_timeframe",
    "timeframe_seconds",
    "timeframe_offset",
    "to_utc",
    "validate_range",
]

TimeLike: TypeAlias = str | datetime | date | pd.Timestamp

#: canonical timeframe -> length in seconds
TIMEFRAMES: Final[dict[str, int]] = {
    "1m": 60,
    "3m": 180,
    "5m": 300,
    "10m": 600,
    "15m": 900,
    "30m": 1800,
    "1h": 3600,
    "4h": 14400,
    "6h": 21600,
    "12h": 43200,
    "1d": 86400,
    "1w": 604800,
}
#: Bithumb's KRW-market price ticks, as published in its support centre ("원화 마켓 호가 단위"):
#: (lowest price of the level, tick size), highest level first. It changes from time to time, so the
#: paper broker (``OrderRules.ticks``) and portfolio backtests (``ExchangeRules.ticks``) take it as a parameter.
KRW_TICKS: Final[tuple[tuple[float, float], ...]] = (
    (1_000_000.0, 1000.0),
    (500_000.0, 500.0),
    (100_000.0, 100.0),
    (50_000.0, 50.0),
    (10_000.0, 10.0),
    (5_000.0, 5.0),
    (1_000.0, 1.0),
    (100.0, 0.1),
    (10.0, 0.01),
    (1.0, 0.001),
    (0.0, 0.0001),
)
#: where bars of every timeframe start counting: 2000-01-03 00:00 UTC (a Monday), as the SQL's ``date_bin``
BUCKET_ORIGIN: Final = pd.Timestamp("2000-01-03", tz="UTC")
#: other spellings, Bithumb's own included (legacy "24h", v1 minute units "60"/"240")
_ALIASES: Final[dict[str, str]] = {
    "1min": "1m", "3min": "3m", "5min": "5m", "10min": "10m", "15min": "15m", "30min": "30m",
    "60m": "1h", "240m": "4h", "24h": "1d", "1day": "1d", "day": "1d", "days": "1d",
    "7d": "1w", "1week": "1w", "week": "1w", "weeks": "1w",
}
_BASE: Final = re.compile(r"^[A-Z0-9]{1,15}$")


def normalize_symbol(symbol: str) -> str:
    """Return the canonical ``KRW-XXX`` form of ``symbol``.

    Accepts ``KRW-BTC``, ``BTC_KRW`` and a bare base currency such as ``btc``.

    >>> normalize_symbol("btc_krw")
    'KRW-BTC'
    """
    if not isinstance(symbol, str) or not symbol.strip():
        raise ValidationError(f"symbol must be a non-empty string like 'KRW-BTC' (got {symbol!r})")
    s = symbol.strip().upper()
    if "-" in s:
        quote, _, base = s.partition("-")
    elif "_" in s:
        base, _, quote = s.partition("_")
    else:
        quote, base = "KRW", s
    if quote != "KRW":
        raise ValidationError(f"symbol {symbol!r}: only KRW markets are supported (quote was {quote!r})")
    if not _BASE.match(base):
        raise ValidationError(
            f"symbol {symbol!r}: base currency {base!r} must be 1-15 letters/digits, e.g. 'KRW-BTC'"
        )
    return f"KRW-{base}"


def normalize_timeframe(timeframe: str) -> str:
    """Return the canonical timeframe (``"60m"`` -> ``"1h"``); raise ValidationError if unknown."""
    if isinstance(timeframe, str):
        tf = timeframe.strip()
        if tf in TIMEFRAMES:
            return tf
        # "1M" conventionally means one month, not one minute: never lower-case it into "1m"
        if not re.fullmatch(r"\d+M", tf):
            tf = tf.lower()
            tf = _ALIASES.get(tf, tf)
            if tf in TIMEFRAMES:
                return tf
    raise ValidationError(f"timeframe {timeframe!r} is not one of {', '.join(TIMEFRAMES)}")


def timeframe_seconds(timeframe: str) -> int:
    return TIMEFRAMES[normalize_timeframe(timeframe)]


def timeframe_offset(timeframe: str) -> pd.Timedelta:
    return pd.Timedelta(seconds=timeframe_seconds(timeframe))


#: the times the workbench accepts (``validate_range``'s defaults for an open start or end)
EARLIEST: Final = pd.Timestamp("1970-01-01", tz="UTC")
LATEST: Final = pd.Timestamp("2100-01-01", tz="UTC")


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:50]}... ({len(text)} characters)"


def to_utc(value: TimeLike, *, name: str = "time") -> pd.Timestamp:
    """Parse ``value`` to a UTC ``Timestamp`` (naive input is taken as UTC), between 1970 and 2100."""
    try:
        ts = pd.Timestamp(value)
        if ts is not pd.NaT:
            ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    except (ValueError, TypeError, OverflowError):
        raise ValidationError(f"{name} {_shown(value)} is not a date/time (e.g. 2025-01-31 or "
                              "2025-01-31T09:00)") from None
    if ts is pd.NaT:
        raise ValidationError(f"{name} {_shown(value)} is not a date/time")
    if not EARLIEST <= ts <= LATEST:
        raise ValidationError(f"{name} {_shown(value)} is not between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}")
    return ts


def validate_range(start: TimeLike | None, end: TimeLike | None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Return ``(start, end)`` as UTC timestamps, half-open ``[start, end)``.

    ``None`` means unbounded (1970-01-01 / 2100-01-01).
    """
    s = to_utc(start, name="start") if start is not None else EARLIEST
    e = to_utc(end, name="end") if end is not None else LATEST
    if not s < e:
        raise ValidationError(f"start ({s.isoformat()}) must be before end ({e.isoformat()})")
    return s, e
