"""The HTTP client of Bithumb's public REST API: rate limit, retries, error bodies -> exceptions."""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlencode

import pandas as pd
import requests

from workbench.core.markets import to_utc
from workbench.errors import ValidationError
from workbench.ingest._ratelimit import RateLimiter
from workbench.ingest._symbols import KST_OFFSET, normalize_symbol, to_legacy_pair
from workbench.ingest.bithumb._common import LEGACY_INTERVALS, V1_CANDLE_PATHS, _api_error, _check_timeframe
from workbench.ingest.bithumb.errors import BithumbAPIError, BithumbError, BithumbHTTPError, BithumbResponseError
from workbench.ingest.bithumb.legacy import (
    parse_legacy_candlestick,
    parse_legacy_orderbook,
    parse_legacy_ticker,
    parse_legacy_tickers_all,
    parse_legacy_transactions,
)
from workbench.ingest.bithumb.v1 import parse_v1_candles, parse_v1_orderbook, parse_v1_ticker, parse_v1_trades

__all__ = ["DEFAULT_BASE_URL", "BithumbClient"]

DEFAULT_BASE_URL: Final = "https://api.bithumb.com"

# Legacy statuses Bithumb documents as temporary (rate limiting, "try again later", DB failure):
# these are retried like HTTP 429/5xx; every other API error body is raised at once.
_TEMPORARY_MESSAGE: Final = re.compile(r"too many|try again|잠시 후", re.IGNORECASE)
_TEMPORARY_V1_NAMES: Final = frozenset({"too_many_requests"})
_RETRY_AFTER_CAP: Final = 60.0


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


@contextlib.contextmanager
def _received(http_status: int) -> Iterator[None]:
    """A shape error of a body this client received names the response's HTTP status."""
    try:
        yield
    except BithumbResponseError as err:
        raise BithumbResponseError(err.message, endpoint=err.endpoint, status=err.status,
                                   http_status=http_status) from err


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
            raise ValidationError(f"max_retries must be an integer >= 0 (got {max_retries!r})")
        if not backoff >= 0:
            raise ValidationError(f"backoff must be >= 0 seconds (got {backoff!r})")
        if not timeout > 0:
            raise ValidationError(f"timeout must be > 0 seconds (got {timeout!r})")
        if not re.match(r"^https?://[^/]+", base_url or ""):
            raise ValidationError(f"base_url must look like 'https://host[:port]' (got {base_url!r})")
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
    def _request(self, path: str, params: Mapping[str, Any] | None = None) -> tuple[Any, pd.Timestamp, int]:
        """GET ``path``; return (decoded JSON, time the response arrived (UTC), HTTP status)."""
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
            received = pd.Timestamp.now(tz="UTC")
            retry, result = self._check(resp, endpoint)
            if not isinstance(result, BithumbError):
                return result, received, resp.status_code
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
        body, received, http = self._request(f"/public/ticker/{to_legacy_pair(symbol)}")
        with _received(http):
            return parse_legacy_ticker(body, symbol, received)

    def tickers_all_krw(self) -> pd.DataFrame:
        """Tickers of every KRW market (legacy ``/public/ticker/ALL_KRW``), one row per symbol."""
        body, received, http = self._request("/public/ticker/ALL_KRW")
        with _received(http):
            return parse_legacy_tickers_all(body, received)

    def orderbook(self, symbol: str, *, count: int = 30) -> pd.DataFrame:
        """Order book snapshot (legacy ``/public/orderbook``), ``count`` (1..30) levels a side."""
        _check_count(count, 1, 30, "count")
        body, _, http = self._request(f"/public/orderbook/{to_legacy_pair(symbol)}", {"count": count})
        with _received(http):
            return parse_legacy_orderbook(body, symbol)

    def transactions(self, symbol: str, *, count: int = 100) -> pd.DataFrame:
        """Latest ``count`` (1..100) trades (legacy ``/public/transaction_history``)."""
        _check_count(count, 1, 100, "count")
        body, _, http = self._request(f"/public/transaction_history/{to_legacy_pair(symbol)}", {"count": count})
        with _received(http):
            return parse_legacy_transactions(body, symbol)

    def candlestick(self, symbol: str, interval: str) -> pd.DataFrame:
        """Candles from the legacy ``/public/candlestick`` API (all Bithumb returns, ascending).

        ``interval`` is a canonical timeframe among ``LEGACY_INTERVALS`` (``1m 3m 5m 10m 30m 1h 6h
        12h 1d``; ``"24h"`` is accepted for ``1d``); others raise ValueError.
        """
        tf = _check_timeframe(interval, LEGACY_INTERVALS, "the legacy candlestick API")
        body, _, http = self._request(f"/public/candlestick/{to_legacy_pair(symbol)}/{LEGACY_INTERVALS[tf]}")
        with _received(http):
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
        body, _, http = self._request(f"/v1/candles/{V1_CANDLE_PATHS[tf]}", params)
        with _received(http):
            return parse_v1_candles(body, tf)

    def v1_ticker(self, symbols: Sequence[str]) -> pd.DataFrame:
        """Tickers of the given markets (``/v1/ticker``), one row per market."""
        body, _, http = self._request("/v1/ticker", {"markets": ",".join(_markets(symbols))})
        with _received(http):
            return parse_v1_ticker(body)

    def v1_orderbook(self, symbols: Sequence[str]) -> pd.DataFrame:
        """Order books of the given markets (``/v1/orderbook``), one row per market.

        Bithumb returns 30 levels for a single market and 15 for several.
        """
        body, _, http = self._request("/v1/orderbook", {"markets": ",".join(_markets(symbols))})
        with _received(http):
            return parse_v1_orderbook(body)

    def v1_trades(self, symbol: str, *, count: int = 100) -> pd.DataFrame:
        """Latest ``count`` (1..500) trades of one market (``/v1/trades/ticks``)."""
        sym = normalize_symbol(symbol)
        _check_count(count, 1, 500, "count")
        body, _, http = self._request("/v1/trades/ticks", {"market": sym, "count": count})
        with _received(http):
            return parse_v1_trades(body)
