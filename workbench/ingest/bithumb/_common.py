"""Shared by the Bithumb parsers and client: table columns, body unwrapping, number/time helpers."""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final

import pandas as pd

from workbench.errors import ValidationError
from workbench.ingest._symbols import KST_OFFSET, normalize_timeframe
from workbench.ingest.bithumb.errors import BithumbAPIError, BithumbError, BithumbResponseError

CANDLE_COLUMNS: Final = ("symbol", "timeframe", "timestamp", "open_price", "high_price", "low_price",
                         "close_price", "volume")
TICKER_COLUMNS: Final = ("symbol", "timestamp", "opening_price", "closing_price", "high_price", "low_price",
                         "volume", "value", "change_24h", "change_rate_24h", "bid_price", "ask_price",
                         "spread")
ORDERBOOK_COLUMNS: Final = ("symbol", "timestamp", "bids", "asks", "bid_volume", "ask_volume", "spread",
                            "mid_price")
TRANSACTION_COLUMNS: Final = ("symbol", "timestamp", "price", "quantity", "value", "side", "bithumb_tx_id")

#: canonical timeframe -> legacy ``/public/candlestick/{pair}/{interval}`` interval
LEGACY_INTERVALS: Final[Mapping[str, str]] = MappingProxyType({
    "1m": "1m", "3m": "3m", "5m": "5m", "10m": "10m", "30m": "30m",
    "1h": "1h", "6h": "6h", "12h": "12h", "1d": "24h",
})
#: canonical timeframe -> path below ``/v1/candles/``
V1_CANDLE_PATHS: Final[Mapping[str, str]] = MappingProxyType({
    "1m": "minutes/1", "3m": "minutes/3", "5m": "minutes/5", "10m": "minutes/10", "15m": "minutes/15",
    "30m": "minutes/30", "1h": "minutes/60", "4h": "minutes/240", "1d": "days", "1w": "weeks",
})

_TS: Final = "datetime64[us, UTC]"
_STR: Final = "str"
_F64: Final = "float64"
_SCHEMAS: Final[dict[str, dict[str, str]]] = {
    "candles": {c: (_STR if c in ("symbol", "timeframe") else _TS if c == "timestamp" else _F64)
                for c in CANDLE_COLUMNS},
    "tickers": {c: (_STR if c == "symbol" else _TS if c == "timestamp" else _F64) for c in TICKER_COLUMNS},
    "orderbooks": {c: (_STR if c in ("symbol", "bids", "asks") else _TS if c == "timestamp" else _F64)
                   for c in ORDERBOOK_COLUMNS},
    "transactions": {c: (_STR if c in ("symbol", "side", "bithumb_tx_id") else _TS if c == "timestamp"
                         else _F64) for c in TRANSACTION_COLUMNS},
}


def _num(value: Any) -> float:
    """Bithumb number (string, int, float or null) -> float; null/empty -> NaN."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return math.nan
    if isinstance(value, bool):
        raise TypeError(f"expected a number, got {value!r}")
    return float(value)


def _ms(value: Any) -> pd.Timestamp:
    """Epoch milliseconds (int or numeric string) -> UTC Timestamp."""
    return pd.Timestamp(int(value), unit="ms", tz="UTC")


def _kst_wall_to_utc(value: str) -> pd.Timestamp:
    """Zone-less KST wall time (``"2024-05-20 14:03:01"``) -> UTC Timestamp."""
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        return ts.tz_convert("UTC")
    return (ts - KST_OFFSET).tz_localize("UTC")


def _utc_wall(value: str) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _frame(kind: str, columns: Mapping[str, Sequence[Any]]) -> pd.DataFrame:
    """Build a frame with exactly the table's columns and dtypes."""
    data: dict[str, Any] = {}
    n = len(next(iter(columns.values()))) if columns else 0
    for name, dtype in _SCHEMAS[kind].items():
        values = columns.get(name)
        if values is None:
            values = [math.nan] * n if dtype == _F64 else [None] * n
        if dtype == _TS:
            data[name] = pd.Series(pd.to_datetime(list(values), utc=True), dtype=_TS)
        elif dtype == _F64:
            data[name] = pd.Series(values, dtype=_F64)
        else:
            data[name] = pd.Series(values, dtype=_STR)
    return pd.DataFrame(data)


@contextlib.contextmanager
def _shape(endpoint: str) -> Iterator[None]:
    """Turn KeyError/TypeError/ValueError while reading a body into BithumbResponseError."""
    try:
        yield
    except BithumbError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as exc:
        detail = f"missing field {exc}" if isinstance(exc, KeyError) else f"{type(exc).__name__}: {exc}"
        raise BithumbResponseError(f"unexpected response shape ({detail})", endpoint=endpoint) from exc


def _legacy_data(body: Any, endpoint: str) -> Any:
    """Return ``body["data"]`` of a legacy body; raise BithumbAPIError for a status != "0000"."""
    if not isinstance(body, Mapping):
        raise BithumbResponseError(f"expected a JSON object, got {type(body).__name__}", endpoint=endpoint)
    status = body.get("status")
    if status is None or str(status) != "0000":
        raise BithumbAPIError(str(body.get("message", "(no message)")), endpoint=endpoint,
                              status=None if status is None else str(status))
    if "data" not in body:
        raise BithumbResponseError("status 0000 but no 'data'", endpoint=endpoint)
    return body["data"]


def _v1_list(body: Any, endpoint: str) -> list[Any]:
    """Return a v1 body (a JSON array); raise BithumbAPIError for an ``{"error": ...}`` body."""
    if isinstance(body, Mapping):
        found = _api_error(body)
        if found is not None:
            raise BithumbAPIError(found[1], endpoint=endpoint, status=found[0])
        raise BithumbResponseError("expected a JSON array, got an object", endpoint=endpoint)
    if not isinstance(body, list):
        raise BithumbResponseError(f"expected a JSON array, got {type(body).__name__}", endpoint=endpoint)
    return body


def _side(value: Any) -> str:
    side = {"bid": "buy", "ask": "sell"}.get(str(value).lower())
    if side is None:
        raise ValueError(f"unknown trade side {value!r} (expected bid/ask)")
    return side


def _book_json(levels: list[tuple[float, float]]) -> str:
    return json.dumps([[p, q] for p, q in levels], separators=(",", ":"))


def _book_row(levels_bid: list[tuple[float, float]], levels_ask: list[tuple[float, float]]) -> dict[str, Any]:
    bids = sorted(((p, q) for p, q in levels_bid if q > 0), key=lambda x: -x[0])
    asks = sorted(((p, q) for p, q in levels_ask if q > 0), key=lambda x: x[0])
    best_bid = bids[0][0] if bids else math.nan
    best_ask = asks[0][0] if asks else math.nan
    return {
        "bids": _book_json(bids),
        "asks": _book_json(asks),
        "bid_volume": math.fsum(q for _, q in bids),
        "ask_volume": math.fsum(q for _, q in asks),
        "spread": best_ask - best_bid,
        "mid_price": (best_ask + best_bid) / 2.0,
    }


def _rows_to_columns(rows: list[dict[str, Any]], kind: str) -> dict[str, list[Any]]:
    return {c: [r.get(c) for r in rows] for c in _SCHEMAS[kind]} if rows else {}


def _finish_candles(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.sort_values("timestamp", kind="stable")
    frame = frame.drop_duplicates(subset=["timestamp"], keep="last")
    return frame.reset_index(drop=True)


def _finish_trades(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("timestamp", kind="stable").reset_index(drop=True)


def _check_timeframe(timeframe: str, supported: Mapping[str, str], api: str) -> str:
    tf = normalize_timeframe(timeframe)
    if tf not in supported:
        raise ValidationError(
            f"timeframe {timeframe!r} is not supported by {api}; supported: {', '.join(supported)}"
        )
    return tf



def _api_error(body: Any) -> tuple[str, str] | None:
    """``(status, message)`` when ``body`` is a legacy or v1 error body, else None."""
    if not isinstance(body, Mapping):
        return None
    err = body.get("error")
    if isinstance(err, Mapping):
        return str(err.get("name", "error")), str(err.get("message", "(no message)"))
    if "status" in body and str(body["status"]) != "0000":
        return str(body["status"]), str(body.get("message", "(no message)"))
    return None


