"""Deterministic ids for legacy trades (the legacy API sends none); CSV imports use the same ids."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import pandas as pd

__all__ = ["legacy_tx_id", "legacy_tx_ids"]


def legacy_tx_id(symbol: str, timestamp: pd.Timestamp, price: float, quantity: float, side: str,
                 occurrence: int) -> str:
    """Deterministic id for a legacy trade: ``"L-"`` + the first 24 hex digits of a SHA-1.

    Parameters
    ----------
    symbol : str
        Canonical symbol.
    timestamp : pandas.Timestamp
        Trade time (tz-aware; converted to UTC).
    price, quantity : float
        As parsed.
    side : str
        ``"buy"`` or ``"sell"``.
    occurrence : int
        0 for the first of several identical (symbol, timestamp, price, quantity, side) rows in one
        response, 1 for the second, ...

    Examples
    --------
    >>> ts = pd.Timestamp("2024-05-20 05:03:01", tz="UTC")
    >>> legacy_tx_id("KRW-BTC", ts, 95180000.0, 0.0021, "buy", 0) == legacy_tx_id(
    ...     "KRW-BTC", ts, 95180000, 0.0021, "buy", 0)
    True
    """
    ts = pd.Timestamp(timestamp).tz_convert("UTC").isoformat()
    key = f"{symbol}|{ts}|{float(price)!r}|{float(quantity)!r}|{side}|{int(occurrence)}"
    return "L-" + hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).hexdigest()[:24]


def legacy_tx_ids(symbol: str, timestamps: Sequence[pd.Timestamp], prices: Sequence[float],
                  quantities: Sequence[float], sides: Sequence[str]) -> list[str]:
    """:func:`legacy_tx_id` of each trade, numbering identical trades 0, 1, ... in order."""
    seen: dict[tuple[Any, ...], int] = {}
    ids = []
    for ts, price, qty, side in zip(timestamps, prices, quantities, sides, strict=True):
        key = (ts, price, qty, side)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        ids.append(legacy_tx_id(symbol, ts, price, qty, side, occurrence))
    return ids


