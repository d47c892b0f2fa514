"""Fetch-and-store against the recorded Bithumb responses, into the real test database and Redis."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from fake_bithumb import FakeBithumb, fixture_reply, load

from workbench.ingest.bithumb import BithumbAPIError, BithumbClient
from workbench.ingest.service import ingest_candles, ingest_orderbooks, ingest_tickers, ingest_trades
from workbench.store.cache import TICKER_TTL, RedisCache
from workbench.store.database import Database
from workbench.store.market_data import load_candles, load_orderbooks, load_tickers


def _count(db: Database, table: str) -> int:
    with db.begin() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar())  # noqa: S608


def test_v1_candles_are_stored_once(db: Database, client: BithumbClient, bithumb_server: FakeBithumb,
                                    redis_cache: RedisCache) -> None:
    bithumb_server.route("/v1/candles/minutes/1", fixture_reply("v1_candles_minutes_1.json"))
    body = load("v1_candles_minutes_1.json")
    r1 = ingest_candles(db, client, "KRW-BTC", "1m", cache=redis_cache)
    r2 = ingest_candles(db, client, "KRW-BTC", "1m", cache=redis_cache)
    assert r1.inserted == len(body) and r2.inserted == 0 and _count(db, "candles") == len(body)
    df = load_candles(db, "KRW-BTC", "1m")
    newest = max(body, key=lambda c: c["timestamp"])
    assert df["close"].iloc[-1] == pytest.approx(float(newest["trade_price"]))


def test_legacy_candlestick(db: Database, client: BithumbClient, bithumb_server: FakeBithumb) -> None:
    bithumb_server.route("/public/candlestick/BTC_KRW/1h", fixture_reply("legacy_candlestick_BTC_KRW_1h.json"))
    r = ingest_candles(db, client, "BTC_KRW", "1h", api="legacy")
    rows = load("legacy_candlestick_BTC_KRW_1h.json")["data"]
    assert r.inserted == len(rows)
    df = load_candles(db, "KRW-BTC", "1h")
    assert df["open"].iloc[0] == pytest.approx(float(rows[0][1]))
    assert df["close"].iloc[0] == pytest.approx(float(rows[0][2]))  # legacy rows are [t, o, c, h, l, v]


def test_api_error_writes_nothing(db: Database, client: BithumbClient, bithumb_server: FakeBithumb) -> None:
    bithumb_server.route("/public/candlestick/BTC_KRW/1h", fixture_reply("legacy_error_5500.json"))
    with pytest.raises(BithumbAPIError, match="5500"):
        ingest_candles(db, client, "KRW-BTC", "1h", api="legacy")
    assert _count(db, "candles") == 0


def test_tickers_and_orderbooks_are_stored_and_cached(db: Database, client: BithumbClient,
                                                      bithumb_server: FakeBithumb,
                                                      redis_cache: RedisCache) -> None:
    bithumb_server.route("/v1/ticker", fixture_reply("v1_ticker.json"))
    bithumb_server.route("/v1/orderbook", fixture_reply("v1_orderbook.json"))
    markets = [t["market"] for t in load("v1_ticker.json")]
    ingest_tickers(db, client, markets, cache=redis_cache)
    assert len(load_tickers(db, markets[0])) == 1
    # value and remaining lifetime read atomically (MULTI/EXEC): the key is either still there with an
    # expiry of at most TICKER_TTL, or already expired; never stored without an expiry
    cached, pttl = redis_cache.client.pipeline(transaction=True).get(f"ticker:{markets[0]}") \
        .pttl(f"ticker:{markets[0]}").execute()
    assert (cached is None and pttl == -2) or (0 < pttl <= TICKER_TTL * 1000), pttl
    if cached is not None:
        assert json.loads(cached)["symbol"] == markets[0]
    books = [b["market"] for b in load("v1_orderbook.json")]
    ingest_orderbooks(db, client, books, cache=redis_cache)
    ob = load_orderbooks(db, books[0])
    assert len(ob) == 1 and json.loads(ob["bids"].iloc[0])
    assert redis_cache.client.exists(f"orderbook:{books[0]}")


def test_trades_refetch_adds_no_duplicates(db: Database, client: BithumbClient,
                                           bithumb_server: FakeBithumb) -> None:
    bithumb_server.route("/v1/trades/ticks", fixture_reply("v1_trades_ticks.json"))
    n = len(load("v1_trades_ticks.json"))
    assert ingest_trades(db, client, "KRW-BTC").inserted == n
    assert ingest_trades(db, client, "KRW-BTC").inserted == 0
    bithumb_server.route("/public/transaction_history/BTC_KRW",
                         fixture_reply("legacy_transaction_history_BTC_KRW.json"))
    legacy_n = len(load("legacy_transaction_history_BTC_KRW.json")["data"])
    assert ingest_trades(db, client, "KRW-BTC", api="legacy").inserted == legacy_n
    assert _count(db, "transactions") == n + legacy_n
