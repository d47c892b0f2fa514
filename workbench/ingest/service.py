"""Fetch from Bithumb's public API and store: each command's rows are written in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import pandas as pd

from workbench.core.markets import normalize_symbol, normalize_timeframe
from workbench.errors import ValidationError
from workbench.ingest.bithumb import BithumbClient
from workbench.store.cache import ORDERBOOK_TTL, TICKER_TTL, FrameCache, NullCache, orderbook_key, ticker_key
from workbench.store.database import Database
from workbench.store.writer import WriteResult, write_frame

__all__ = ["ingest_candles", "ingest_orderbooks", "ingest_tickers", "ingest_trades"]

Api = Literal["v1", "legacy"]


def _check_api(api: str) -> None:
    if api not in ("v1", "legacy"):
        raise ValidationError(f"api {api!r} is not one of 'v1', 'legacy'")


def ingest_candles(db: Database, client: BithumbClient, symbol: str, timeframe: str, *, api: Api = "v1",
                   count: int = 200, pages: int = 1, cache: FrameCache | None = None,
                   progress: bool = False) -> WriteResult:
    """Fetch candles and upsert them.

    ``v1``: ``pages`` requests of ``count`` candles each, walking back in time. ``legacy``: the
    candlestick endpoint's whole answer (it has no paging). All pages are written together, or none.
    """
    _check_api(api)
    if pages < 1:
        raise ValidationError(f"pages must be >= 1 (got {pages})")
    sym, tf = normalize_symbol(symbol), normalize_timeframe(timeframe)
    if api == "legacy":
        frame = client.candlestick(sym, tf)
    else:
        from tqdm.auto import tqdm

        parts: list[pd.DataFrame] = []
        to = None
        for _ in tqdm(range(pages), desc=f"{sym} {tf} candles", unit="page", disable=not progress):
            page = client.v1_candles(sym, tf, count=count, to=to)
            if page.empty:
                break
            parts.append(page)
            to = page["timestamp"].min().to_pydatetime()
        frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        if len(frame):
            frame = frame.drop_duplicates(subset=["timestamp"], keep="last").sort_values("timestamp")
    return write_frame(db, "candles", frame, cache=cache) if len(frame) else WriteResult("candles", 0, 0, 0)


def ingest_tickers(db: Database, client: BithumbClient, symbols: Sequence[str] | None = None, *,
                   api: Api = "v1", cache: FrameCache | None = None) -> WriteResult:
    """Snapshot tickers (all KRW markets when ``symbols`` is None, legacy API) and cache each for 1 s."""
    _check_api(api)
    cache = cache or NullCache()
    if symbols is None:
        frame = client.tickers_all_krw()
    elif api == "v1":
        frame = client.v1_ticker([normalize_symbol(s) for s in symbols])
    else:
        frame = pd.concat([client.ticker(normalize_symbol(s)) for s in symbols], ignore_index=True)
    result = write_frame(db, "tickers", frame)
    for row in frame.to_dict("records"):
        cache.set_json(ticker_key(row["symbol"]), row, TICKER_TTL)
    return result


def ingest_orderbooks(db: Database, client: BithumbClient, symbols: Sequence[str], *, api: Api = "v1",
                      cache: FrameCache | None = None) -> WriteResult:
    """Snapshot order books and cache each for 1 s."""
    _check_api(api)
    cache = cache or NullCache()
    syms = [normalize_symbol(s) for s in symbols]
    if api == "v1":
        frame = client.v1_orderbook(syms)
    else:
        frame = pd.concat([client.orderbook(s) for s in syms], ignore_index=True)
    result = write_frame(db, "orderbooks", frame)
    for row in frame.to_dict("records"):
        cache.set_json(orderbook_key(row["symbol"]), row, ORDERBOOK_TTL)
    return result


def ingest_trades(db: Database, client: BithumbClient, symbol: str, *, api: Api = "v1",
                  count: int = 100) -> WriteResult:
    """Fetch recent trades; re-fetching overlapping trades adds no duplicates (trade ids)."""
    _check_api(api)
    sym = normalize_symbol(symbol)
    frame = client.v1_trades(sym, count=count) if api == "v1" else client.transactions(sym, count=count)
    return write_frame(db, "transactions", frame)
