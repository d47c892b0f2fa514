"""Bithumb public REST API: a small HTTP client plus pure parse functions.

Two API generations are covered, both public (no keys):

* **legacy** ``/public/...`` — every body is ``{"status": "0000", "data": ...}`` with numbers sent as
  strings; a failure is a body with another status (e.g. ``{"status": "5600", "message": "..."}``),
  usually still sent with HTTP 200.
* **v1** ``/v1/...`` (the Upbit-style API) — bodies are JSON arrays with real numbers; a failure is
  ``{"error": {"name": "...", "message": "..."}}``, normally with an HTTP 4xx status.

Every parse function is pure (decoded JSON in, :class:`pandas.DataFrame` out) and returns exactly
the columns of the matching database table (see ``CANDLE_COLUMNS`` etc.): symbols canonical
(``KRW-BTC``), timestamps tz-aware UTC (``datetime64[us, UTC]``), numbers ``float64``.

Time conventions (what was decided, and why):

* candle ``timestamp`` is the candle's **open** time. Legacy candlestick rows carry it as epoch
  milliseconds; v1 candles as ``candle_date_time_utc``. Bithumb aligns 4h and longer candles to
  KST midnight, so a ``1d`` candle's timestamp is 15:00 UTC of the previous day.
* legacy ``transaction_history`` gives ``transaction_date`` as KST wall time without a zone; it is
  converted with the fixed +09:00 offset (Korea has no daylight saving).
* v1 ``to`` parameters are sent as KST wall time (``yyyy-MM-dd HH:mm:ss``), which is how the API
  interprets a zone-less value; naive ``datetime`` arguments are taken as UTC.

Ticker semantics differ between the generations; the ``tickers`` frame keeps the table's names:

* ``opening_price``/``high_price``/``low_price``: since 00:00 KST in both (legacy ``opening_price``,
  ``max_price``, ``min_price``; v1 ``opening_price``, ``high_price``, ``low_price``).
* ``closing_price``: legacy ``closing_price``; v1 ``trade_price``.
* ``volume``/``value``: rolling 24 h — legacy ``units_traded_24H``/``acc_trade_value_24H``; v1
  ``acc_trade_volume_24h``/``acc_trade_price_24h``.
* ``change_24h``: legacy ``fluctate_24H`` (rolling 24 h); v1 ``signed_change_price`` (against the
  previous day's close).
* ``change_rate_24h``: **percent** in both — legacy ``fluctate_rate_24H`` as Bithumb gives it
  (``"1.23"`` = 1.23 %); v1 ``signed_change_rate`` (a fraction, ``0.0123``) multiplied by 100.
* ``bid_price``/``ask_price``/``spread``: NaN — neither endpoint reports quotes today (legacy
  ``buy_price``/``sell_price`` are used if a response still carries them).

Legacy trades carry no id. :func:`legacy_tx_id` derives a deterministic one from (symbol, UTC
timestamp, price, quantity, side, occurrence index among identical rows of the same response), so
ingesting the same response twice yields the same ids. Limitation: if a window boundary splits a
group of identical trades (same second, price, quantity and side), the split-off ones are numbered
from 0 again in the next response.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import requests

from workbench.errors import ValidationError, WorkbenchError
from workbench.ingest._ratelimit import RateLimiter
from workbench.ingest._symbols import (
    KST_OFFSET,
    TIMEFRAMES,
    normalize_symbol,
    normalize_timeframe,
    to_legacy_pair,
)
from workbench.markets import to_utc

__all__ = [
    "CANDLE_COLUMNS",
    "DEFAULT_BASE_URL",
    "LEGACY_INTERVALS",
    "ORDERBOOK_COLUMNS",
    "TICKER_COLUMNS",
    "TRANSACTION_COLUMNS",
    "V1_CANDLE_PATHS",
    "BithumbAPIError",
    "BithumbClient",
    "BithumbError",
    "BithumbHTTPError",
    "BithumbResponseError",
    "legacy_tx_id",
    "parse_legacy_candlestick",
    "parse_legacy_orderbook",
    "parse_legacy_ticker",
    "parse_legacy_tickers_all",
    "parse_legacy_transactions",
    "parse_v1_candles",
    "parse_v1_orderbook",
    "parse_v1_ticker",
    "parse_v1_trades",
]

DEFAULT_BASE_URL: Final = "https://api.bithumb.com"

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
_V1_MINUTE_UNITS: Final = {60: "1h", 240: "4h", **{u: f"{u}m" for u in (1, 3, 5, 10, 15, 30)}}

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

# Legacy statuses Bithumb documents as temporary (rate limiting, "try again later", DB failure):
# these are retried like HTTP 429/5xx; every other API error body is raised at once.
_TEMPORARY_MESSAGE: Final = re.compile(r"too many|try again|잠시 후", re.IGNORECASE)
_TEMPORARY_V1_NAMES: Final = frozenset({"too_many_requests"})
_RETRY_AFTER_CAP: Final = 60.0


# --------------------------------------------------------------------------------------------- errors
class BithumbError(WorkbenchError):
    """Base class of every Bithumb client error.

    Attributes
    ----------
    message : str
        What went wrong (Bithumb's own message where it sent one).
    endpoint : str
        Request path and query, e.g. ``"/public/ticker/BTC_KRW"``.
    status : str or int or None
        Bithumb's error code for API errors (``"5600"``, ``"invalid_parameter"``); the HTTP status
        for HTTP errors; ``None`` when no response was received.
    http_status : int or None
        HTTP status of the response, ``None`` when no response was received.
    """

    def __init__(self, message: str, *, endpoint: str = "?", status: str | int | None = None,
                 http_status: int | None = None) -> None:
        self.message = message
        self.endpoint = endpoint
        self.status = status
        self.http_status = http_status
        super().__init__(self._describe())

    def _describe(self) -> str:
        bits = []
        if self.status is not None and self.status != self.http_status:
            bits.append(f"status {self.status}")
        if self.http_status is not None:
            bits.append(f"HTTP {self.http_status}")
        return f"Bithumb {self.endpoint} -> {', '.join(bits) or 'no response'}: {self.message}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_error, (type(self), self.message, self.endpoint, self.status, self.http_status))


def _rebuild_error(cls: type[BithumbError], message: str, endpoint: str, status: Any,
                   http_status: Any) -> BithumbError:
    return cls(message, endpoint=endpoint, status=status, http_status=http_status)


class BithumbAPIError(BithumbError):
    """Bithumb answered with an error body: legacy ``status != "0000"`` or v1 ``{"error": {...}}``."""


class BithumbHTTPError(BithumbError):
    """Transport failure: non-2xx without an error body, a non-JSON body, or retries exhausted."""


class BithumbResponseError(BithumbError):
    """A successful JSON body whose shape is not what the endpoint documents."""


# ----------------------------------------------------------------------------------- parse helpers
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


# ----------------------------------------------------------------------------------- legacy parsers
def _legacy_ticker_row(symbol: str, item: Mapping[str, Any], date: Any) -> dict[str, Any]:
    bid = _num(item.get("buy_price"))
    ask = _num(item.get("sell_price"))
    return {
        "symbol": symbol,
        "timestamp": _ms(date),
        "opening_price": _num(item["opening_price"]),
        "closing_price": _num(item["closing_price"]),
        "high_price": _num(item["max_price"]),
        "low_price": _num(item["min_price"]),
        "volume": _num(item["units_traded_24H"]),
        "value": _num(item["acc_trade_value_24H"]),
        "change_24h": _num(item["fluctate_24H"]),
        "change_rate_24h": _num(item["fluctate_rate_24H"]),
        "bid_price": bid,
        "ask_price": ask,
        "spread": ask - bid,
    }


def parse_legacy_ticker(body: Any, symbol: str) -> pd.DataFrame:
    """Parse a ``/public/ticker/{X}_KRW`` body into a one-row ``tickers`` frame.

    Parameters
    ----------
    body : dict
        Decoded JSON, ``{"status": "0000", "data": {"opening_price": "...", ..., "date": "<ms>"}}``.
    symbol : str
        The symbol requested (the body does not name it); any accepted spelling.

    Returns
    -------
    pandas.DataFrame
        Columns ``TICKER_COLUMNS``. ``change_rate_24h`` is ``fluctate_rate_24H`` in percent, as
        Bithumb gives it; bid/ask/spread are NaN (the endpoint reports no quotes).

    Raises
    ------
    BithumbAPIError
        For an error body (status != "0000").
    BithumbResponseError
        When the body lacks documented fields.
    """
    sym = normalize_symbol(symbol)
    endpoint = f"/public/ticker/{to_legacy_pair(sym)}"
    data = _legacy_data(body, endpoint)
    with _shape(endpoint):
        row = _legacy_ticker_row(sym, data, data["date"])
    return _frame("tickers", _rows_to_columns([row], "tickers"))


def parse_legacy_tickers_all(body: Any) -> pd.DataFrame:
    """Parse a ``/public/ticker/ALL_KRW`` body into a ``tickers`` frame, one row per symbol.

    Entries that are not ticker objects (Bithumb sends ``[]`` for suspended coins) or whose key is
    not a valid base currency are skipped. Rows are sorted by symbol; all share ``data["date"]``.
    """
    endpoint = "/public/ticker/ALL_KRW"
    data = _legacy_data(body, endpoint)
    rows = []
    with _shape(endpoint):
        date = data["date"]
        for key, item in data.items():
            if key == "date" or not isinstance(item, Mapping):
                continue
            try:
                sym = normalize_symbol(f"{key}_KRW")
            except ValueError:
                continue
            rows.append(_legacy_ticker_row(sym, item, date))
    rows.sort(key=lambda r: r["symbol"])
    return _frame("tickers", _rows_to_columns(rows, "tickers"))


def parse_legacy_orderbook(body: Any, symbol: str | None = None) -> pd.DataFrame:
    """Parse a ``/public/orderbook/{X}_KRW`` body into a one-row ``orderbooks`` frame.

    ``symbol`` defaults to the body's ``order_currency``. ``bids``/``asks`` are JSON text arrays of
    ``[price, quantity]`` pairs, best first; zero-quantity levels are dropped. ``spread`` is best ask
    minus best bid and ``mid_price`` their mean (NaN when a side is empty); the volumes are the sums
    of the listed quantities.
    """
    sym = normalize_symbol(symbol) if symbol is not None else None
    endpoint = f"/public/orderbook/{to_legacy_pair(sym) if sym else '?'}"
    data = _legacy_data(body, endpoint)
    with _shape(endpoint):
        if sym is None:
            sym = normalize_symbol(f"{data['order_currency']}_{data.get('payment_currency', 'KRW')}")
        bids = [(_num(x["price"]), _num(x["quantity"])) for x in data["bids"]]
        asks = [(_num(x["price"]), _num(x["quantity"])) for x in data["asks"]]
        row = {"symbol": sym, "timestamp": _ms(data["timestamp"]), **_book_row(bids, asks)}
    return _frame("orderbooks", _rows_to_columns([row], "orderbooks"))


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


def parse_legacy_transactions(body: Any, symbol: str) -> pd.DataFrame:
    """Parse a ``/public/transaction_history/{X}_KRW`` body into a ``transactions`` frame.

    ``transaction_date`` (KST wall time) is converted to UTC; ``type`` bid/ask becomes side
    buy/sell; ``value`` is price x quantity (Bithumb's ``total`` is rounded to whole KRW and is not
    used); ``bithumb_tx_id`` comes from :func:`legacy_tx_id`. Rows are sorted by time (stable).
    """
    sym = normalize_symbol(symbol)
    endpoint = f"/public/transaction_history/{to_legacy_pair(sym)}"
    data = _legacy_data(body, endpoint)
    rows = []
    with _shape(endpoint):
        for item in data:
            ts = _kst_wall_to_utc(item["transaction_date"])
            price, qty, side = _num(item["price"]), _num(item["units_traded"]), _side(item["type"])
            rows.append({"symbol": sym, "timestamp": ts, "price": price, "quantity": qty,
                         "value": price * qty, "side": side})
    ids = legacy_tx_ids(sym, [r["timestamp"] for r in rows], [r["price"] for r in rows],
                        [r["quantity"] for r in rows], [r["side"] for r in rows])
    for row, tx_id in zip(rows, ids, strict=True):
        row["bithumb_tx_id"] = tx_id
    return _finish_trades(_frame("transactions", _rows_to_columns(rows, "transactions")))


def _infer_legacy_timeframe(stamps_ms: list[int], endpoint: str) -> str:
    diffs = np.diff(np.unique(np.asarray(stamps_ms, dtype="int64")))
    by_seconds = {TIMEFRAMES[tf]: tf for tf in LEGACY_INTERVALS}
    if diffs.size:
        step = int(diffs.min()) // 1000
        if step in by_seconds:
            return by_seconds[step]
    raise BithumbResponseError(
        "cannot infer the candle interval from the rows; pass timeframe= explicitly", endpoint=endpoint
    )


def parse_legacy_candlestick(body: Any, symbol: str, timeframe: str | None = None) -> pd.DataFrame:
    """Parse a ``/public/candlestick/{X}_KRW/{interval}`` body into a ``candles`` frame.

    Rows are ``[open_time_ms, open, close, high, low, volume]`` — note **open, close, high, low**,
    not OHLC order. Output is sorted by timestamp with duplicate timestamps removed (last kept).

    Parameters
    ----------
    body : dict
        Decoded JSON.
    symbol : str
        The symbol requested (the body does not name it).
    timeframe : str, optional
        The interval requested (canonical or legacy spelling, ``"24h"`` == ``"1d"``). When omitted
        it is inferred from the smallest spacing between rows.
    """
    sym = normalize_symbol(symbol)
    tf = _check_timeframe(timeframe, LEGACY_INTERVALS, "the legacy candlestick API") if timeframe else None
    endpoint = f"/public/candlestick/{to_legacy_pair(sym)}/{LEGACY_INTERVALS[tf] if tf else '?'}"
    data = _legacy_data(body, endpoint)
    with _shape(endpoint):
        rows = [(int(r[0]), _num(r[1]), _num(r[2]), _num(r[3]), _num(r[4]), _num(r[5])) for r in data]
    if tf is None:
        tf = _infer_legacy_timeframe([r[0] for r in rows], endpoint) if rows else "1d"
    columns = {
        "symbol": [sym] * len(rows),
        "timeframe": [tf] * len(rows),
        "timestamp": [pd.Timestamp(r[0], unit="ms", tz="UTC") for r in rows],
        "open_price": [r[1] for r in rows],
        "close_price": [r[2] for r in rows],
        "high_price": [r[3] for r in rows],
        "low_price": [r[4] for r in rows],
        "volume": [r[5] for r in rows],
    }
    return _finish_candles(_frame("candles", columns))


# ------------------------------------------------------------------------------------- v1 parsers
def _v1_candle_timeframe(item: Mapping[str, Any]) -> str:
    unit = item.get("unit")
    if unit is not None:
        tf = _V1_MINUTE_UNITS.get(int(unit))
        if tf is None:
            raise ValueError(f"unknown minute candle unit {unit!r}")
        return tf
    return "1w" if "first_day_of_period" in item else "1d"


def parse_v1_candles(body: Any, timeframe: str | None = None) -> pd.DataFrame:
    """Parse a ``/v1/candles/{minutes/N|days|weeks}`` body into a ``candles`` frame.

    ``timestamp`` is ``candle_date_time_utc`` (the open time); ``close_price`` is ``trade_price``;
    ``volume`` is ``candle_acc_trade_volume``. The API returns newest first; the frame is sorted
    ascending with duplicate timestamps removed. ``timeframe`` defaults to what the rows say
    (``unit`` for minute candles, ``first_day_of_period`` for weeks, otherwise days).
    """
    tf = _check_timeframe(timeframe, V1_CANDLE_PATHS, "the v1 candles API") if timeframe else None
    endpoint = f"/v1/candles/{V1_CANDLE_PATHS[tf] if tf else '?'}"
    items = _v1_list(body, endpoint)
    rows = []
    with _shape(endpoint):
        for item in reversed(items):
            if "candle_date_time_utc" in item:
                ts = _utc_wall(item["candle_date_time_utc"])
            else:
                ts = _kst_wall_to_utc(item["candle_date_time_kst"])
            rows.append({
                "symbol": normalize_symbol(item["market"]),
                "timeframe": tf or _v1_candle_timeframe(item),
                "timestamp": ts,
                "open_price": _num(item["opening_price"]),
                "high_price": _num(item["high_price"]),
                "low_price": _num(item["low_price"]),
                "close_price": _num(item["trade_price"]),
                "volume": _num(item["candle_acc_trade_volume"]),
            })
    frame = _frame("candles", _rows_to_columns(rows, "candles"))
    frame = frame.sort_values(["symbol", "timeframe", "timestamp"], kind="stable")
    frame = frame.drop_duplicates(subset=["symbol", "timeframe", "timestamp"], keep="last")
    return frame.reset_index(drop=True)


def parse_v1_ticker(body: Any) -> pd.DataFrame:
    """Parse a ``/v1/ticker?markets=...`` body into a ``tickers`` frame, one row per market.

    ``change_24h`` is ``signed_change_price`` and ``change_rate_24h`` is ``signed_change_rate``
    converted to **percent** (x 100) to match the legacy API; both are relative to the previous
    day's close. ``volume``/``value`` are the rolling 24 h figures; ``timestamp`` is ``timestamp``.
    """
    endpoint = "/v1/ticker"
    items = _v1_list(body, endpoint)
    rows = []
    with _shape(endpoint):
        for item in items:
            rows.append({
                "symbol": normalize_symbol(item["market"]),
                "timestamp": _ms(item.get("timestamp", item.get("trade_timestamp"))),
                "opening_price": _num(item["opening_price"]),
                "closing_price": _num(item["trade_price"]),
                "high_price": _num(item["high_price"]),
                "low_price": _num(item["low_price"]),
                "volume": _num(item["acc_trade_volume_24h"]),
                "value": _num(item["acc_trade_price_24h"]),
                "change_24h": _num(item["signed_change_price"]),
                "change_rate_24h": _num(item["signed_change_rate"]) * 100.0,
                "bid_price": math.nan,
                "ask_price": math.nan,
                "spread": math.nan,
            })
    return _frame("tickers", _rows_to_columns(rows, "tickers"))


def parse_v1_orderbook(body: Any) -> pd.DataFrame:
    """Parse a ``/v1/orderbook?markets=...`` body into an ``orderbooks`` frame, one row per market.

    Each ``orderbook_units`` entry holds one bid level and one ask level; they are split into the
    ``bids``/``asks`` JSON arrays (best first, zero sizes dropped) as in
    :func:`parse_legacy_orderbook`.
    """
    endpoint = "/v1/orderbook"
    items = _v1_list(body, endpoint)
    rows = []
    with _shape(endpoint):
        for item in items:
            units = item["orderbook_units"]
            bids = [(_num(u["bid_price"]), _num(u["bid_size"])) for u in units]
            asks = [(_num(u["ask_price"]), _num(u["ask_size"])) for u in units]
            rows.append({"symbol": normalize_symbol(item["market"]), "timestamp": _ms(item["timestamp"]),
                         **_book_row(bids, asks)})
    return _frame("orderbooks", _rows_to_columns(rows, "orderbooks"))


def parse_v1_trades(body: Any) -> pd.DataFrame:
    """Parse a ``/v1/trades/ticks`` body into a ``transactions`` frame.

    ``timestamp`` is the millisecond ``timestamp`` (falling back to ``trade_date_utc`` +
    ``trade_time_utc``); ``ask_bid`` ASK/BID becomes side sell/buy; ``bithumb_tx_id`` is
    ``sequential_id`` as a string. The API returns newest first; the frame is sorted ascending.
    """
    endpoint = "/v1/trades/ticks"
    items = _v1_list(body, endpoint)
    rows = []
    with _shape(endpoint):
        for item in reversed(items):
            if item.get("timestamp") is not None:
                ts = _ms(item["timestamp"])
            else:
                ts = _utc_wall(f"{item['trade_date_utc']} {item['trade_time_utc']}")
            price, qty = _num(item["trade_price"]), _num(item["trade_volume"])
            rows.append({
                "symbol": normalize_symbol(item["market"]), "timestamp": ts, "price": price,
                "quantity": qty, "value": price * qty, "side": _side(item["ask_bid"]),
                "bithumb_tx_id": str(item["sequential_id"]),
            })
    return _finish_trades(_frame("transactions", _rows_to_columns(rows, "transactions")))


# --------------------------------------------------------------------------------- validation
def _check_timeframe(timeframe: str, supported: Mapping[str, str], api: str) -> str:
    tf = normalize_timeframe(timeframe)
    if tf not in supported:
        raise ValidationError(
            f"timeframe {timeframe!r} is not supported by {api}; supported: {', '.join(supported)}"
        )
    return tf


def _check_count(count: int, low: int, high: int, what: str) -> int:
    if isinstance(count, bool) or not isinstance(count, int) or not low <= count <= high:
        raise ValidationError(f"{what} must be an integer in {low}..{high} (got {count!r})")
    return count


def _markets(symbols: Sequence[str] | str) -> list[str]:
    items = [symbols] if isinstance(symbols, str) else list(symbols)
    if not items:
        raise ValidationError("symbols must name at least one market, e.g. ['KRW-BTC']")
    out: list[str] = []
    for s in items:
        sym = normalize_symbol(s)
        if sym not in out:
            out.append(sym)
    return out


def _kst_param(to: datetime | str) -> str:
    """``to`` -> KST wall time ``yyyy-MM-dd HH:mm:ss`` (naive input taken as UTC; ceil to the second)."""
    kst = to_utc(to, name="to").tz_localize(None).ceil("s") + KST_OFFSET
    return kst.strftime("%Y-%m-%d %H:%M:%S")


# ----------------------------------------------------------------------------------- transport
_NOT_JSON: Final = object()


def _decode(content: bytes) -> Any:
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return _NOT_JSON


def _snippet(content: bytes, limit: int = 120) -> str:
    text = content[:limit].decode("utf-8", errors="replace")
    return repr(text + ("..." if len(content) > limit else ""))


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


def _is_temporary(status: str, message: str) -> bool:
    if status == "5400":  # "Database Fail"
        return True
    if status == "5600":  # overloaded/"too many connections"/"Please try again"/"잠시 후 다시 ..."
        return bool(_TEMPORARY_MESSAGE.search(message))
    return status.lower() in _TEMPORARY_V1_NAMES


def _retry_after(resp: requests.Response) -> float:
    value = resp.headers.get("Retry-After")
    try:
        return min(max(float(value), 0.0), _RETRY_AFTER_CAP) if value is not None else 0.0
    except ValueError:
        return 0.0


class BithumbClient:
    """Client for Bithumb's public REST API (legacy ``/public`` and ``/v1``).

    Every request waits for the rate limiter first; connection errors, timeouts, HTTP 429 and 5xx
    (and Bithumb's documented temporary statuses, e.g. 5600 "Please try again") are retried with
    exponential backoff ``backoff * 2**attempt`` (at least ``Retry-After`` when sent). Other error
    bodies raise :class:`BithumbAPIError` at once.

    Parameters
    ----------
    base_url : str, optional
        Scheme and host, e.g. ``"https://api.bithumb.com"`` (tests point it at a local server).
    session : requests.Session, optional
        Session to use; one is created (and closed by :meth:`close`) when omitted.
    max_requests_per_second : float, optional
        Sustained request rate (minimum interval ``1/rate``); ``math.inf`` disables limiting.
        Ignored when ``rate_limiter`` is given.
    max_retries : int, optional
        Retries after the first attempt (so up to ``max_retries + 1`` requests).
    backoff : float, optional
        Base backoff in seconds.
    timeout : float, optional
        Per-request timeout in seconds (connect and read).
    sleep : callable, optional
        Used for backoff and rate-limit waits; inject a no-op in tests.
    rate_limiter : RateLimiter, optional
        Share one limiter between clients (Bithumb limits per IP).

    Notes
    -----
    Methods may be called from several threads: the rate limiter is thread-safe and shared by all
    of them (``requests.Session`` is used the way it is commonly shared between threads).

    Examples
    --------
    >>> client = BithumbClient(max_requests_per_second=5)   # doctest: +SKIP
    >>> client.v1_candles("btc", "1h", count=24)             # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        session: requests.Session | None = None,
        max_requests_per_second: float = 10.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries must be an integer >= 0 (got {max_retries!r})")
        if not backoff >= 0:
            raise ValueError(f"backoff must be >= 0 seconds (got {backoff!r})")
        if not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds (got {timeout!r})")
        if not re.match(r"^https?://[^/]+", base_url or ""):
            raise ValueError(f"base_url must look like 'https://host[:port]' (got {base_url!r})")
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.backoff = float(backoff)
        self.timeout = float(timeout)
        self._sleep = sleep
        self._limiter = rate_limiter or RateLimiter(max_requests_per_second, sleep=sleep)
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()

    def __repr__(self) -> str:
        return f"BithumbClient(base_url={self.base_url!r}, rate={self._limiter.rate:g}/s)"

    def close(self) -> None:
        """Close the session if this client created it."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> BithumbClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ transport
    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET ``path``; return the decoded JSON of a successful response (see class docstring)."""
        endpoint = path + (f"?{urlencode(params)}" if params else "")
        attempts = self.max_retries + 1
        last: BithumbError | None = None
        delay = 0.0
        for attempt in range(attempts):
            if attempt:
                self._sleep(delay)
            self._limiter.acquire()
            try:
                resp = self._session.get(self.base_url + path, params=params, timeout=self.timeout,
                                         headers={"Accept": "application/json"})
            except (requests.ConnectionError, requests.Timeout,
                    requests.exceptions.ChunkedEncodingError) as exc:
                last = BithumbHTTPError(f"{type(exc).__name__}: {exc}", endpoint=endpoint)
                delay = self.backoff * 2**attempt
                continue
            retry, result = self._check(resp, endpoint)
            if not isinstance(result, BithumbError):
                return result
            if not retry:
                raise result
            last = result
            delay = max(self.backoff * 2**attempt, _retry_after(resp))
        assert last is not None
        raise BithumbHTTPError(
            f"gave up after {attempts} attempt{'s' if attempts > 1 else ''}; last error: {last.message}",
            endpoint=endpoint, status=last.status, http_status=last.http_status,
        ) from last

    @staticmethod
    def _check(resp: requests.Response, endpoint: str) -> tuple[bool, Any]:
        """Return ``(retryable, body_or_error)`` for one response."""
        http = resp.status_code
        content = resp.content or b""
        body = _decode(content)
        found = _api_error(body) if body is not _NOT_JSON else None
        if http == 429 or 500 <= http <= 599:
            msg = found[1] if found else f"{resp.reason or 'error'}; body starts {_snippet(content)}"
            return True, BithumbHTTPError(msg, endpoint=endpoint, status=http, http_status=http)
        if found is not None:
            status, message = found
            err = BithumbAPIError(message, endpoint=endpoint, status=status, http_status=http)
            return _is_temporary(status, message), err
        if not 200 <= http <= 299:
            return False, BithumbHTTPError(
                f"unexpected {resp.reason or 'response'}; body starts {_snippet(content)}",
                endpoint=endpoint, status=http, http_status=http,
            )
        if body is _NOT_JSON:
            return False, BithumbHTTPError(
                f"response is not JSON; body starts {_snippet(content)}",
                endpoint=endpoint, status=http, http_status=http,
            )
        return False, body

    # ------------------------------------------------------------------ legacy
    def ticker(self, symbol: str) -> pd.DataFrame:
        """Current ticker of one market (legacy ``/public/ticker``); a one-row ``tickers`` frame."""
        body = self._get(f"/public/ticker/{to_legacy_pair(symbol)}")
        return parse_legacy_ticker(body, symbol)

    def tickers_all_krw(self) -> pd.DataFrame:
        """Tickers of every KRW market (legacy ``/public/ticker/ALL_KRW``), one row per symbol."""
        return parse_legacy_tickers_all(self._get("/public/ticker/ALL_KRW"))

    def orderbook(self, symbol: str, *, count: int = 30) -> pd.DataFrame:
        """Order book snapshot (legacy ``/public/orderbook``), ``count`` (1..30) levels a side."""
        _check_count(count, 1, 30, "count")
        body = self._get(f"/public/orderbook/{to_legacy_pair(symbol)}", {"count": count})
        return parse_legacy_orderbook(body, symbol)

    def transactions(self, symbol: str, *, count: int = 100) -> pd.DataFrame:
        """Latest ``count`` (1..100) trades (legacy ``/public/transaction_history``)."""
        _check_count(count, 1, 100, "count")
        body = self._get(f"/public/transaction_history/{to_legacy_pair(symbol)}", {"count": count})
        return parse_legacy_transactions(body, symbol)

    def candlestick(self, symbol: str, interval: str) -> pd.DataFrame:
        """Candles from the legacy ``/public/candlestick`` API (all Bithumb returns, ascending).

        ``interval`` is a canonical timeframe among ``LEGACY_INTERVALS`` (``1m 3m 5m 10m 30m 1h 6h
        12h 1d``; ``"24h"`` is accepted for ``1d``); others raise ValueError.
        """
        tf = _check_timeframe(interval, LEGACY_INTERVALS, "the legacy candlestick API")
        body = self._get(f"/public/candlestick/{to_legacy_pair(symbol)}/{LEGACY_INTERVALS[tf]}")
        return parse_legacy_candlestick(body, symbol, tf)

    # ------------------------------------------------------------------ v1
    def v1_candles(self, symbol: str, timeframe: str, *, count: int = 200,
                   to: datetime | None = None) -> pd.DataFrame:
        """Up to ``count`` (1..200) candles ending before ``to`` (exclusive; default now).

        ``timeframe`` is one of ``V1_CANDLE_PATHS`` (``1m 3m 5m 10m 15m 30m 1h 4h 1d 1w``); naive
        ``to`` is taken as UTC. Bithumb omits candles of periods without trades.
        """
        sym = normalize_symbol(symbol)
        tf = _check_timeframe(timeframe, V1_CANDLE_PATHS, "the v1 candles API")
        _check_count(count, 1, 200, "count")
        params: dict[str, Any] = {"market": sym, "count": count}
        if to is not None:
            params["to"] = _kst_param(to)
        body = self._get(f"/v1/candles/{V1_CANDLE_PATHS[tf]}", params)
        return parse_v1_candles(body, tf)

    def v1_ticker(self, symbols: Sequence[str]) -> pd.DataFrame:
        """Tickers of the given markets (``/v1/ticker``), one row per market."""
        return parse_v1_ticker(self._get("/v1/ticker", {"markets": ",".join(_markets(symbols))}))

    def v1_orderbook(self, symbols: Sequence[str]) -> pd.DataFrame:
        """Order books of the given markets (``/v1/orderbook``), one row per market.

        Bithumb returns 30 levels for a single market and 15 for several.
        """
        return parse_v1_orderbook(self._get("/v1/orderbook", {"markets": ",".join(_markets(symbols))}))

    def v1_trades(self, symbol: str, *, count: int = 100) -> pd.DataFrame:
        """Latest ``count`` (1..500) trades of one market (``/v1/trades/ticks``)."""
        sym = normalize_symbol(symbol)
        _check_count(count, 1, 500, "count")
        return parse_v1_trades(self._get("/v1/trades/ticks", {"market": sym, "count": count}))
