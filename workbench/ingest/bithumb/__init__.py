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

from workbench.ingest.bithumb._common import (
    CANDLE_COLUMNS,
    LEGACY_INTERVALS,
    ORDERBOOK_COLUMNS,
    TICKER_COLUMNS,
    TRANSACTION_COLUMNS,
    V1_CANDLE_PATHS,
)
from workbench.ingest.bithumb.client import DEFAULT_BASE_URL, BithumbClient
from workbench.ingest.bithumb.errors import (
    BithumbAPIError,
    BithumbError,
    BithumbHTTPError,
    BithumbResponseError,
)
from workbench.ingest.bithumb.legacy import (
    parse_legacy_candlestick,
    parse_legacy_orderbook,
    parse_legacy_ticker,
    parse_legacy_tickers_all,
    parse_legacy_transactions,
)
from workbench.ingest.bithumb.trade_ids import legacy_tx_id, legacy_tx_ids
from workbench.ingest.bithumb.v1 import (
    parse_v1_candles,
    parse_v1_orderbook,
    parse_v1_ticker,
    parse_v1_trades,
)

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
    "legacy_tx_ids",
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
