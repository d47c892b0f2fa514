"""Parsers of the ``/v1/...`` (Upbit-style) bodies: JSON arrays with real numbers."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

import pandas as pd

from workbench.ingest._symbols import normalize_symbol
from workbench.ingest.bithumb._common import (
    V1_CANDLE_PATHS,
    _book_row,
    _check_timeframe,
    _finish_trades,
    _frame,
    _kst_wall_to_utc,
    _ms,
    _num,
    _rows_to_columns,
    _shape,
    _side,
    _utc_wall,
    _v1_list,
)

__all__ = ["parse_v1_candles", "parse_v1_orderbook", "parse_v1_ticker", "parse_v1_trades"]

_V1_MINUTE_UNITS: Final = {60: "1h", 240: "4h", **{u: f"{u}m" for u in (1, 3, 5, 10, 15, 30)}}


def _v1_candle_timeframe(item: Mapping[str, Any]) -> str:
    unit = item.get("unit")
    if unit is not None:
        tf = _V1_MINUTE_UNITS.get(int(unit))
        if tf is None:
            raise ValueError(f"unknown minute candle unit {unit!r}")
        return tf
    return "1w" if "first_day_of_period" in item else "1d"


def parse_v1_candles(body: object, timeframe: str | None = None) -> pd.DataFrame:
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


def parse_v1_ticker(body: object) -> pd.DataFrame:
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


def parse_v1_orderbook(body: object) -> pd.DataFrame:
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


def parse_v1_trades(body: object) -> pd.DataFrame:
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


