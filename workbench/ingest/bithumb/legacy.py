"""Parsers of the legacy ``/public/...`` bodies (``{"status": "0000", "data": ...}``, numbers as strings)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from workbench.ingest._symbols import TIMEFRAMES, normalize_symbol, to_legacy_pair
from workbench.ingest.bithumb._common import (
    LEGACY_INTERVALS,
    _book_row,
    _check_timeframe,
    _finish_candles,
    _finish_trades,
    _frame,
    _kst_wall_to_utc,
    _legacy_data,
    _ms,
    _num,
    _rows_to_columns,
    _shape,
    _side,
)
from workbench.ingest.bithumb.errors import BithumbResponseError
from workbench.ingest.bithumb.trade_ids import legacy_tx_ids

__all__ = [
    "parse_legacy_candlestick",
    "parse_legacy_orderbook",
    "parse_legacy_ticker",
    "parse_legacy_tickers_all",
    "parse_legacy_transactions",
]


def _legacy_ticker_row(symbol: str, item: Mapping[str, Any], date: pd.Timestamp) -> dict[str, Any]:
    bid = _num(item.get("buy_price"))
    ask = _num(item.get("sell_price"))
    return {
        "symbol": symbol,
        "timestamp": date,
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


def _ticker_time(data: Mapping[str, Any], received_at: pd.Timestamp | None, endpoint: str) -> pd.Timestamp:
    """The body's ``date`` (epoch ms) or, where Bithumb left it out, the time the response arrived."""
    if data.get("date") not in (None, ""):
        return _ms(data["date"])
    if received_at is None:
        raise BithumbResponseError("unexpected response shape (no 'date' in data, and no received_at "
                                   "given to take the time from)", endpoint=endpoint)
    return pd.Timestamp(received_at).tz_convert("UTC").floor("ms")


def parse_legacy_ticker(body: object, symbol: str, received_at: pd.Timestamp | None = None) -> pd.DataFrame:
    """Parse a ``/public/ticker/{X}_KRW`` body into a one-row ``tickers`` frame.

    Parameters
    ----------
    body : dict
        Decoded JSON, ``{"status": "0000", "data": {"opening_price": "...", ..., "date": "<ms>"}}``.
    symbol : str
        The symbol requested (the body does not name it); any accepted spelling.
    received_at : pandas.Timestamp, optional
        When the response arrived (tz-aware); the timestamp when the body has no ``date``.

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
        row = _legacy_ticker_row(sym, data, _ticker_time(data, received_at, endpoint))
    return _frame("tickers", _rows_to_columns([row], "tickers"))


def parse_legacy_tickers_all(body: object, received_at: pd.Timestamp | None = None) -> pd.DataFrame:
    """Parse a ``/public/ticker/ALL_KRW`` body into a ``tickers`` frame, one row per symbol.

    Entries that are not ticker objects (Bithumb sends ``[]`` for suspended coins) or whose key is
    not a valid base currency are skipped. Rows are sorted by symbol; all share ``data["date"]`` or,
    when the body has none (as in ccxt's recorded responses), ``received_at`` (the response time).
    """
    endpoint = "/public/ticker/ALL_KRW"
    data = _legacy_data(body, endpoint)
    rows = []
    with _shape(endpoint):
        if not isinstance(data, Mapping):
            raise TypeError(f"'data' is a {type(data).__name__}, not an object of tickers")
        date = _ticker_time(data, received_at, endpoint)
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


def parse_legacy_orderbook(body: object, symbol: str | None = None) -> pd.DataFrame:
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


def parse_legacy_transactions(body: object, symbol: str) -> pd.DataFrame:
    """Parse a ``/public/transaction_history/{X}_KRW`` body into a ``transactions`` frame.

    ``transaction_date`` (KST wall time) is converted to UTC; ``type`` bid/ask becomes side
    buy/sell; ``value`` is price x quantity (Bithumb's ``total`` is rounded to whole KRW and is not
    used); ``bithumb_tx_id`` comes from :func:`legacy_tx_id`. Rows are sorted by time (stable).
    """
    sym = normalize_symbol(symbol)
    endpoint = f"/public/transaction_history/{to_legacy_pair(sym)}"
    data = _legacy_data(body, endpoint)
    rows: list[dict[str, Any]] = []
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


def parse_legacy_candlestick(body: object, symbol: str, timeframe: str | None = None) -> pd.DataFrame:
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
    columns: dict[str, Sequence[object]] = {
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


