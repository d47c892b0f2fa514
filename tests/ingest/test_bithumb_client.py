"""Bithumb client tests against recorded response bodies served by a real local HTTP server.

No mocking library and no network: ``tests/fixtures/bithumb/*.json`` are served by a
``ThreadingHTTPServer`` on 127.0.0.1, scripted per path (e.g. "503, 503, then 200"). Backoff and
rate-limit waits go through injected ``sleep``/``clock`` functions, so nothing depends on timing.
"""

from __future__ import annotations

import json
import math
import socket
import threading
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd
import pytest
import requests
from fake_bithumb import FakeBithumb, Reply, fixture_reply, load

from workbench.ingest import bithumb as bh
from workbench.ingest._ratelimit import RateLimiter
from workbench.ingest._symbols import TIMEFRAMES, normalize_symbol, normalize_timeframe, to_legacy_pair
from workbench.ingest.bithumb import (
    BithumbAPIError,
    BithumbClient,
    BithumbError,
    BithumbHTTPError,
    BithumbResponseError,
)

UTC_TS = "datetime64[us, UTC]"


def assert_columns(frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    assert tuple(frame.columns) == columns
    assert str(frame["timestamp"].dtype) == UTC_TS
    for name in columns:
        if name not in ("symbol", "timeframe", "timestamp", "bids", "asks", "side", "bithumb_tx_id"):
            assert frame[name].dtype == np.float64, name


# ------------------------------------------------------------------------------ symbols/timeframes
@pytest.mark.parametrize("raw", ["KRW-BTC", "krw-btc", "BTC_KRW", "btc_krw", "btc", " BTC "])
def test_normalize_symbol_accepts_all_spellings(raw: str) -> None:
    assert normalize_symbol(raw) == "KRW-BTC"
    assert to_legacy_pair(raw) == "BTC_KRW"


def test_normalize_symbol_keeps_digits() -> None:
    assert normalize_symbol("1inch") == "KRW-1INCH"


@pytest.mark.parametrize(("raw", "fragment"), [
    ("BTC-ETH", "only KRW markets"),
    ("ETH_BTC", "only KRW markets"),
    ("USDT-BTC", "only KRW markets"),
    ("BT C", "1-15 letters/digits"),
    ("KRW-" + "A" * 16, "1-15 letters/digits"),
    ("KRW-", "1-15 letters/digits"),
    ("", "non-empty"),
])
def test_normalize_symbol_rejects_with_the_symbol_named(raw: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment) as info:
        normalize_symbol(raw)
    assert repr(raw) in str(info.value)


def test_timeframes_table() -> None:
    assert list(TIMEFRAMES) == ["1m", "3m", "5m", "10m", "15m", "30m", "1h", "4h", "6h", "12h", "1d", "1w"]
    for name, seconds in TIMEFRAMES.items():
        assert pd.Timedelta(name.replace("m", "min").replace("w", "W").replace("d", "D")).total_seconds() == seconds
    assert TIMEFRAMES["4h"] == 14400 and TIMEFRAMES["1w"] == 7 * 86400


@pytest.mark.parametrize(("raw", "canonical"), [
    ("1m", "1m"), ("1H", "1h"), ("60m", "1h"), ("240m", "4h"), ("24h", "1d"), ("1D", "1d"),
    ("day", "1d"), ("week", "1w"), ("15min", "15m"),
])
def test_normalize_timeframe(raw: str, canonical: str) -> None:
    assert normalize_timeframe(raw) == canonical


@pytest.mark.parametrize("raw", ["2h", "1M", "", "1s", "1y"])
def test_normalize_timeframe_rejects_and_lists_allowed(raw: str) -> None:
    with pytest.raises(ValueError, match=r"1m, 3m, 5m, 10m, 15m, 30m, 1h, 4h, 6h, 12h, 1d, 1w") as info:
        normalize_timeframe(raw)
    assert repr(raw) in str(info.value)


# --------------------------------------------------------------------------- legacy parse (pure)
def test_parse_legacy_ticker() -> None:
    df = bh.parse_legacy_ticker(load("legacy_ticker_BTC_KRW.json"), "btc")
    assert_columns(df, bh.TICKER_COLUMNS)
    assert len(df) == 1
    row = df.iloc[0]
    assert row["symbol"] == "KRW-BTC"
    assert row["timestamp"] == pd.Timestamp("2024-05-20 05:03:04.512", tz="UTC")
    assert row["opening_price"] == 93921000.0
    assert row["closing_price"] == 95187000.0
    assert row["high_price"] == 95420000.0  # max_price
    assert row["low_price"] == 93611000.0  # min_price
    assert row["volume"] == pytest.approx(1432.09338102)  # units_traded_24H
    assert row["value"] == pytest.approx(135512846001.9973)  # acc_trade_value_24H
    assert row["change_24h"] == 1157000.0
    assert row["change_rate_24h"] == pytest.approx(1.23)  # percent, as Bithumb gives it
    assert math.isnan(row["bid_price"]) and math.isnan(row["ask_price"]) and math.isnan(row["spread"])


def test_parse_legacy_ticker_uses_quotes_when_present() -> None:
    body = load("legacy_ticker_BTC_KRW.json")
    body["data"].update(buy_price="95186000", sell_price="95187000")
    row = bh.parse_legacy_ticker(body, "KRW-BTC").iloc[0]
    assert (row["bid_price"], row["ask_price"], row["spread"]) == (95186000.0, 95187000.0, 1000.0)


def test_parse_legacy_tickers_all() -> None:
    body = load("legacy_ticker_ALL_KRW.json")
    body["data"]["HALTED"] = []  # suspended coins come as an empty list
    body["data"]["bad key!"] = {"opening_price": "1"}
    df = bh.parse_legacy_tickers_all(body)
    assert_columns(df, bh.TICKER_COLUMNS)
    assert df["symbol"].tolist() == ["KRW-BTC", "KRW-ETH", "KRW-XRP"]
    assert (df["timestamp"] == pd.Timestamp(1716181390114, unit="ms", tz="UTC")).all()
    eth = df.set_index("symbol").loc["KRW-ETH"]
    assert eth["change_24h"] == -23000.0 and eth["change_rate_24h"] == pytest.approx(-0.54)
    assert df.set_index("symbol").loc["KRW-XRP", "closing_price"] == pytest.approx(722.8)


def test_parse_legacy_orderbook() -> None:
    df = bh.parse_legacy_orderbook(load("legacy_orderbook_BTC_KRW.json"))
    assert_columns(df, bh.ORDERBOOK_COLUMNS)
    row = df.iloc[0]
    assert row["symbol"] == "KRW-BTC"  # from order_currency
    assert row["timestamp"] == pd.Timestamp(1716181384631, unit="ms", tz="UTC")
    bids, asks = json.loads(row["bids"]), json.loads(row["asks"])
    assert bids[0] == [95186000.0, 0.0512] and asks[0] == [95187000.0, 0.2374]
    assert [p for p, _ in bids] == sorted((p for p, _ in bids), reverse=True)  # best (highest) first
    assert [p for p, _ in asks] == sorted(p for p, _ in asks)  # best (lowest) first
    assert row["bid_volume"] == pytest.approx(0.0512 + 0.2001 + 0.01 + 1.438 + 0.0034)
    assert row["ask_volume"] == pytest.approx(0.2374 + 0.05 + 0.6112 + 0.0021 + 2.0)
    assert row["spread"] == 1000.0
    assert row["mid_price"] == 95186500.0


def test_parse_legacy_orderbook_sorts_and_handles_an_empty_side() -> None:
    body = {"status": "0000", "data": {"timestamp": "1716181384631", "payment_currency": "KRW",
                                       "order_currency": "ETH", "asks": [],
                                       "bids": [{"price": "100", "quantity": "1"},
                                                {"price": "101", "quantity": "2"},
                                                {"price": "102", "quantity": "0"}]}}
    row = bh.parse_legacy_orderbook(body, "eth").iloc[0]
    assert json.loads(row["bids"]) == [[101.0, 2.0], [100.0, 1.0]]  # zero-quantity level dropped
    assert row["asks"] == "[]" and row["ask_volume"] == 0.0
    assert math.isnan(row["spread"]) and math.isnan(row["mid_price"])


def test_parse_legacy_transactions_kst_to_utc_and_sides() -> None:
    df = bh.parse_legacy_transactions(load("legacy_transaction_history_BTC_KRW.json"), "BTC_KRW")
    assert_columns(df, bh.TRANSACTION_COLUMNS)
    assert len(df) == 6
    # "2024-05-20 14:02:58" is KST wall time -> 05:02:58 UTC
    assert df["timestamp"].iloc[0] == pd.Timestamp("2024-05-20 05:02:58", tz="UTC")
    assert df["timestamp"].is_monotonic_increasing
    assert df["side"].tolist() == ["sell", "buy", "buy", "buy", "sell", "buy"]
    assert df["price"].iloc[3] == 95187000.0 and df["quantity"].iloc[3] == pytest.approx(0.1088)
    assert df["value"].iloc[3] == pytest.approx(95187000 * 0.1088)
    assert (df["symbol"] == "KRW-BTC").all()


def test_legacy_tx_ids_are_deterministic_and_distinct() -> None:
    body = load("legacy_transaction_history_BTC_KRW.json")
    first = bh.parse_legacy_transactions(body, "KRW-BTC")["bithumb_tx_id"].tolist()
    again = bh.parse_legacy_transactions(load("legacy_transaction_history_BTC_KRW.json"), "btc")
    assert again["bithumb_tx_id"].tolist() == first  # re-ingesting gives the same ids
    assert len(set(first)) == len(first)  # the two identical trades got different ids
    assert all(i.startswith("L-") and len(i) == 26 and int(i[2:], 16) >= 0 for i in first)
    # an id does not depend on the row's position, only on its content (and its duplicate index)
    trimmed = {"status": "0000", "data": body["data"][2:]}
    ids = bh.parse_legacy_transactions(trimmed, "KRW-BTC")["bithumb_tx_id"].tolist()
    assert ids[1:] == first[3:]
    # ids differ between symbols
    other = bh.parse_legacy_transactions(body, "KRW-ETH")["bithumb_tx_id"].tolist()
    assert not set(other) & set(first)


def test_legacy_tx_id_function() -> None:
    ts = pd.Timestamp("2024-05-20 05:03:01", tz="UTC")
    a = bh.legacy_tx_id("KRW-BTC", ts, 95180000.0, 0.0021, "buy", 0)
    assert a == bh.legacy_tx_id("KRW-BTC", ts.tz_convert(timezone(timedelta(hours=9))), 95180000, 0.0021,
                                "buy", 0)
    assert a != bh.legacy_tx_id("KRW-BTC", ts, 95180000.0, 0.0021, "buy", 1)
    assert a != bh.legacy_tx_id("KRW-BTC", ts, 95180000.0, 0.0021, "sell", 0)


def test_parse_legacy_candlestick_column_order() -> None:
    """Legacy rows are [ts, open, CLOSE, HIGH, LOW, volume], not OHLC."""
    df = bh.parse_legacy_candlestick(load("legacy_candlestick_BTC_KRW_1h.json"), "KRW-BTC", "1h")
    assert_columns(df, bh.CANDLE_COLUMNS)
    first = df.iloc[0]
    assert first["timestamp"] == pd.Timestamp("2024-05-20 00:00", tz="UTC")
    assert (first["open_price"], first["close_price"], first["high_price"], first["low_price"]) == (
        94820000.0, 95010000.0, 95100000.0, 94700000.0)
    assert first["volume"] == pytest.approx(61.91234871)
    assert (df["high_price"] >= df[["open_price", "close_price"]].max(axis=1)).all()
    assert (df["low_price"] <= df[["open_price", "close_price"]].min(axis=1)).all()
    assert df["timeframe"].unique().tolist() == ["1h"] and df["symbol"].unique().tolist() == ["KRW-BTC"]
    assert df["timestamp"].is_monotonic_increasing and len(df) == 5


def test_parse_legacy_candlestick_infers_timeframe_and_daily_alignment() -> None:
    assert bh.parse_legacy_candlestick(load("legacy_candlestick_BTC_KRW_1h.json"), "btc")[
        "timeframe"].iloc[0] == "1h"
    daily = bh.parse_legacy_candlestick(load("legacy_candlestick_BTC_KRW_24h.json"), "btc")
    assert daily["timeframe"].unique().tolist() == ["1d"]
    # Bithumb's daily candles open at 00:00 KST = 15:00 UTC the day before
    assert daily["timestamp"].tolist() == [pd.Timestamp(f"2024-05-{d} 15:00", tz="UTC") for d in (17, 18, 19)]
    assert bh.parse_legacy_candlestick(load("legacy_candlestick_BTC_KRW_24h.json"), "btc", "24h")[
        "timeframe"].iloc[0] == "1d"


def test_parse_legacy_candlestick_sorts_and_deduplicates() -> None:
    rows = load("legacy_candlestick_BTC_KRW_1h.json")["data"]
    revised = [rows[1][0], "95010000", "94999000", "95060000", "94880000", "50.0"]
    body = {"status": "0000", "data": [rows[2], rows[0], rows[1], revised]}
    df = bh.parse_legacy_candlestick(body, "KRW-BTC", "1h")
    assert df["timestamp"].is_monotonic_increasing and df["timestamp"].is_unique
    assert len(df) == 3
    assert df["close_price"].iloc[1] == 94999000.0  # the later duplicate wins


def test_parse_legacy_candlestick_rejects_unsupported_timeframe() -> None:
    with pytest.raises(ValueError, match=r"'4h' is not supported by the legacy candlestick API"):
        bh.parse_legacy_candlestick(load("legacy_candlestick_BTC_KRW_1h.json"), "btc", "4h")


@pytest.mark.parametrize("parse", [
    lambda b: bh.parse_legacy_ticker(b, "btc"),
    bh.parse_legacy_tickers_all,
    lambda b: bh.parse_legacy_orderbook(b, "btc"),
    lambda b: bh.parse_legacy_transactions(b, "btc"),
    lambda b: bh.parse_legacy_candlestick(b, "btc", "1h"),
])
def test_legacy_parsers_raise_on_error_bodies(parse: Any) -> None:
    with pytest.raises(BithumbAPIError) as info:
        parse(load("legacy_error_5600.json"))
    assert info.value.status == "5600"
    assert info.value.message == "코인명이 잘못 입력되었습니다."


def test_legacy_parser_rejects_malformed_body() -> None:
    with pytest.raises(BithumbResponseError, match="missing field 'closing_price'"):
        bh.parse_legacy_ticker({"status": "0000", "data": {"opening_price": "1", "date": "1"}}, "btc")
    with pytest.raises(BithumbResponseError, match="could not convert string to float: 'x'"):
        bh.parse_legacy_transactions({"status": "0000", "data": [
            {"transaction_date": "2024-05-20 14:03:01", "type": "bid", "units_traded": "x",
             "price": "1", "total": "1"}]}, "btc")


def test_empty_bodies_give_typed_empty_frames() -> None:
    cases = [
        (bh.parse_legacy_transactions({"status": "0000", "data": []}, "btc"), bh.TRANSACTION_COLUMNS),
        (bh.parse_legacy_candlestick({"status": "0000", "data": []}, "btc", "1m"), bh.CANDLE_COLUMNS),
        (bh.parse_v1_candles([]), bh.CANDLE_COLUMNS),
        (bh.parse_v1_ticker([]), bh.TICKER_COLUMNS),
        (bh.parse_v1_orderbook([]), bh.ORDERBOOK_COLUMNS),
        (bh.parse_v1_trades([]), bh.TRANSACTION_COLUMNS),
    ]
    for frame, columns in cases:
        assert frame.empty
        assert_columns(frame, columns)


# ------------------------------------------------------------------------------- v1 parse (pure)
def test_parse_v1_candles_minutes() -> None:
    df = bh.parse_v1_candles(load("v1_candles_minutes_1.json"))
    assert_columns(df, bh.CANDLE_COLUMNS)
    assert df["timeframe"].unique().tolist() == ["1m"]  # inferred from "unit": 1
    assert df["timestamp"].is_monotonic_increasing  # API sends newest first
    assert df["timestamp"].tolist() == [pd.Timestamp(f"2024-05-20 {t}", tz="UTC")
                                        for t in ("04:59", "05:01", "05:02", "05:03")]
    last = df.iloc[-1]
    assert (last["open_price"], last["high_price"], last["low_price"], last["close_price"]) == (
        95180000.0, 95187000.0, 95176000.0, 95187000.0)
    assert last["volume"] == pytest.approx(0.12222571)


def test_parse_v1_candles_days_and_weeks() -> None:
    days = bh.parse_v1_candles(load("v1_candles_days.json"))
    assert days["timeframe"].unique().tolist() == ["1d"]
    assert days["timestamp"].iloc[-1] == pd.Timestamp("2024-05-19 15:00", tz="UTC")  # 2024-05-20 00:00 KST
    weeks = bh.parse_v1_candles(load("v1_candles_weeks.json"))
    assert weeks["timeframe"].unique().tolist() == ["1w"]
    assert weeks["timestamp"].tolist() == [pd.Timestamp("2024-05-12 15:00", tz="UTC"),
                                           pd.Timestamp("2024-05-19 15:00", tz="UTC")]
    assert bh.parse_v1_candles(load("v1_candles_days.json"), "1d").equals(days)
    with pytest.raises(ValueError, match="'6h' is not supported by the v1 candles API"):
        bh.parse_v1_candles(load("v1_candles_days.json"), "6h")


def test_parse_v1_candles_deduplicates() -> None:
    body = load("v1_candles_minutes_1.json")
    df = bh.parse_v1_candles(body + body[:1])
    assert df["timestamp"].is_unique and len(df) == 4


def test_parse_v1_ticker() -> None:
    df = bh.parse_v1_ticker(load("v1_ticker.json"))
    assert_columns(df, bh.TICKER_COLUMNS)
    assert df["symbol"].tolist() == ["KRW-BTC", "KRW-ETH"]
    btc, eth = df.iloc[0], df.iloc[1]
    assert btc["timestamp"] == pd.Timestamp(1716181384600, unit="ms", tz="UTC")
    assert btc["closing_price"] == 95187000.0  # trade_price
    assert btc["volume"] == pytest.approx(1432.09338102) and btc["value"] == pytest.approx(135512846001.9973)
    assert btc["change_rate_24h"] == pytest.approx(1.34902044)  # signed_change_rate x 100 (percent)
    assert eth["change_24h"] == -17000.0 and eth["change_rate_24h"] == pytest.approx(-0.39645522)
    assert df[["bid_price", "ask_price", "spread"]].isna().all().all()


def test_parse_v1_orderbook() -> None:
    df = bh.parse_v1_orderbook(load("v1_orderbook.json"))
    assert_columns(df, bh.ORDERBOOK_COLUMNS)
    assert df["symbol"].tolist() == ["KRW-BTC", "KRW-ETH"]
    btc = df.iloc[0]
    assert json.loads(btc["bids"])[:2] == [[95186000.0, 0.0512], [95185000.0, 0.2001]]
    assert json.loads(btc["asks"])[:2] == [[95187000.0, 0.2374], [95190000.0, 0.05]]
    assert btc["bid_volume"] == pytest.approx(1.7027) and btc["ask_volume"] == pytest.approx(2.9007)
    assert btc["spread"] == 1000.0 and btc["mid_price"] == 95186500.0
    # the legacy and v1 snapshots of the same book agree
    legacy = bh.parse_legacy_orderbook(load("legacy_orderbook_BTC_KRW.json")).iloc[0]
    assert json.loads(legacy["bids"]) == json.loads(btc["bids"])
    assert json.loads(legacy["asks"]) == json.loads(btc["asks"])


def test_parse_v1_trades() -> None:
    df = bh.parse_v1_trades(load("v1_trades_ticks.json"))
    assert_columns(df, bh.TRANSACTION_COLUMNS)
    assert df["timestamp"].is_monotonic_increasing
    assert df["timestamp"].iloc[-1] == pd.Timestamp(1716181384512, unit="ms", tz="UTC")
    assert df["bithumb_tx_id"].iloc[-1] == "17161813845120000"  # sequential_id, exact, as text
    assert df["side"].tolist() == ["sell", "buy", "buy", "sell", "buy"]  # ASK -> sell, BID -> buy
    assert df["value"].iloc[-1] == pytest.approx(95187000 * 0.0105)


def test_parse_v1_trades_falls_back_to_date_and_time() -> None:
    item = dict(load("v1_trades_ticks.json")[0])
    del item["timestamp"]
    df = bh.parse_v1_trades([item])
    assert df["timestamp"].iloc[0] == pd.Timestamp("2024-05-20 05:03:04", tz="UTC")


@pytest.mark.parametrize("parse", [bh.parse_v1_candles, bh.parse_v1_ticker, bh.parse_v1_orderbook,
                                   bh.parse_v1_trades])
def test_v1_parsers_raise_on_error_bodies(parse: Any) -> None:
    with pytest.raises(BithumbAPIError) as info:
        parse(load("v1_error_invalid_parameter.json"))
    assert info.value.status == "invalid_parameter"
    assert info.value.message == "잘못된 파라미터 입니다."


def test_v1_parser_rejects_wrong_side() -> None:
    item = dict(load("v1_trades_ticks.json")[0], ask_bid="HOLD")
    with pytest.raises(BithumbResponseError, match="unknown trade side 'HOLD'"):
        bh.parse_v1_trades([item])


# --------------------------------------------------------------------------- client over real HTTP
def test_client_ticker(client: BithumbClient, bithumb_server: FakeBithumb) -> None:
    bithumb_server.route("/public/ticker/BTC_KRW", fixture_reply("legacy_ticker_BTC_KRW.json"))
    df = client.ticker("krw-btc")
    assert df["symbol"].tolist() == ["KRW-BTC"] and df["closing_price"].iloc[0] == 95187000.0
    assert bithumb_server.paths() == ["/public/ticker/BTC_KRW"]


def test_client_tickers_all_krw(client: BithumbClient, bithumb_server: FakeBithumb) -> None:
    bithumb_server.route("/public/ticker/ALL_KRW", fixture_reply("legacy_ticker_ALL_KRW.json"))
    assert client.tickers_all_krw()["symbol"].tolist() == ["KRW-BTC", "KRW-ETH", "KRW-XRP"]


def test_client_orderbook(client: BithumbClient, bithumb_server: FakeBithumb) -> None:
    bithumb_server.route("/public/orderbook/BTC_KRW", fixture_reply("legacy_orderbook_BTC_KRW.json"))
    df = client.orderbook("BTC", count=5)
    assert df["mid_price"].iloc[0] == 95186500.0
    assert bithumb_server.requests == [("/public/orderbook/BTC_KRW", {"count": ["5"]})]


def test_client_transactions(client: BithumbClient, bithumb_server: FakeBithumb) -> None:
    bithumb_server.route("/public/transaction_history/BTC_KRW",
                         fixture_reply("legacy_transaction_history_BTC_KRW.json"))
    df = client.transactions("btc", count=6)
    assert len(df) == 6 and df["bithumb_tx_id"].is_unique
    assert bithumb_server.requests == [("/public/transaction_history/BTC_KRW", {"count": ["6"]})]


@pytest.mark.parametrize(("interval", "path", "fixture"), [
    ("1h", "/public/candlestick/BTC_KRW/1h", "legacy_candlestick_BTC_KRW_1h.json"),
    ("1d", "/public/candlestick/BTC_KRW/24h", "legacy_candlestick_BTC_KRW_24h.json"),
    ("24h", "/public/candlestick/BTC_KRW/24h", "legacy_candlestick_BTC_KRW_24h.json"),
])
def test_client_candlestick(client: BithumbClient, bithumb_server: FakeBithumb, interval: str, path: str,
                            fixture: str) -> None:
    bithumb_server.route(path, fixture_reply(fixture))
    df = client.candlestick("BTC_KRW", interval)
    assert_columns(df, bh.CANDLE_COLUMNS)
    assert df["timeframe"].iloc[0] == normalize_timeframe(interval)
    assert bithumb_server.paths() == [path]


@pytest.mark.parametrize(("timeframe", "path", "fixture"), [
    ("1m", "/v1/candles/minutes/1", "v1_candles_minutes_1.json"),
    ("1d", "/v1/candles/days", "v1_candles_days.json"),
    ("1w", "/v1/candles/weeks", "v1_candles_weeks.json"),
])
def test_client_v1_candles(client: BithumbClient, bithumb_server: FakeBithumb, timeframe: str, path: str,
                           fixture: str) -> None:
    bithumb_server.route(path, fixture_reply(fixture))
    df = client.v1_candles("btc", timeframe, count=3)
    assert df["timeframe"].unique().tolist() == [timeframe]
    assert bithumb_server.requests == [(path, {"market": ["KRW-BTC"], "count": ["3"]})]


def test_client_v1_candles_maps_hours_to_minute_units(client: BithumbClient,
                                                      bithumb_server: FakeBithumb) -> None:
    body = load("v1_candles_minutes_1.json")
    for item in body:
        item["unit"] = 240
    bithumb_server.route("/v1/candles/minutes/240", Reply(200, json.dumps(body).encode()))
    df = client.v1_candles("KRW-BTC", "4h")
    assert df["timeframe"].unique().tolist() == ["4h"]
    assert bithumb_server.requests[0][1]["count"] == ["200"]


@pytest.mark.parametrize(("to", "expected"), [
    (datetime(2024, 5, 20, 5, 3), "2024-05-20 14:03:00"),  # naive = UTC, sent as KST wall time
    (datetime(2024, 5, 20, 5, 3, tzinfo=UTC), "2024-05-20 14:03:00"),
    (datetime(2024, 5, 20, 14, 3, tzinfo=timezone(timedelta(hours=9))), "2024-05-20 14:03:00"),
    (pd.Timestamp("2024-05-19 23:30:00.250", tz="UTC"), "2024-05-20 08:30:01"),  # exclusive: ceil
])
def test_client_v1_candles_to_is_sent_in_kst(client: BithumbClient, bithumb_server: FakeBithumb,
                                             to: datetime, expected: str) -> None:
    bithumb_server.route("/v1/candles/minutes/1", fixture_reply("v1_candles_minutes_1.json"))
    client.v1_candles("btc", "1m", to=to)
    assert bithumb_server.requests[0][1]["to"] == [expected]


def test_client_v1_ticker_and_orderbook(client: BithumbClient, bithumb_server: FakeBithumb) -> None:
    bithumb_server.route("/v1/ticker", fixture_reply("v1_ticker.json"))
    bithumb_server.route("/v1/orderbook", fixture_reply("v1_orderbook.json"))
    assert client.v1_ticker(["btc", "ETH_KRW", "KRW-BTC"])["symbol"].tolist() == ["KRW-BTC", "KRW-ETH"]
    assert client.v1_orderbook("KRW-BTC")["symbol"].iloc[0] == "KRW-BTC"  # a lone string is one market
    assert bithumb_server.requests == [("/v1/ticker", {"markets": ["KRW-BTC,KRW-ETH"]}),
                                       ("/v1/orderbook", {"markets": ["KRW-BTC"]})]


def test_client_v1_trades(client: BithumbClient, bithumb_server: FakeBithumb) -> None:
    bithumb_server.route("/v1/trades/ticks", fixture_reply("v1_trades_ticks.json"))
    df = client.v1_trades("btc", count=5)
    assert len(df) == 5
    assert bithumb_server.requests == [("/v1/trades/ticks", {"market": ["KRW-BTC"], "count": ["5"]})]


def test_client_validates_before_any_request(client: BithumbClient, bithumb_server: FakeBithumb) -> None:
    with pytest.raises(ValueError, match=r"'4h' is not supported by the legacy candlestick API; "
                                         r"supported: 1m, 3m, 5m, 10m, 30m, 1h, 6h, 12h, 1d"):
        client.candlestick("btc", "4h")
    with pytest.raises(ValueError, match=r"'12h' is not supported by the v1 candles API; supported: "
                                         r"1m, 3m, 5m, 10m, 15m, 30m, 1h, 4h, 1d, 1w"):
        client.v1_candles("btc", "12h")
    with pytest.raises(ValueError, match="'2h' is not one of"):
        client.v1_candles("btc", "2h")
    with pytest.raises(ValueError, match="'USDT-BTC'"):
        client.ticker("USDT-BTC")
    with pytest.raises(ValueError, match="'BTC-ETH'"):
        client.v1_ticker(["KRW-BTC", "BTC-ETH"])
    with pytest.raises(ValueError, match="at least one market"):
        client.v1_orderbook([])
    with pytest.raises(ValueError, match=r"count must be an integer in 1\.\.200"):
        client.v1_candles("btc", "1m", count=201)
    with pytest.raises(ValueError, match=r"count must be an integer in 1\.\.100"):
        client.transactions("btc", count=0)
    with pytest.raises(ValueError, match="is not a date/time"):
        client.v1_candles("btc", "1m", to="not a date")  # type: ignore[arg-type]
    assert bithumb_server.requests == []


def test_client_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        BithumbClient(max_retries=-1)
    with pytest.raises(ValueError, match="timeout"):
        BithumbClient(timeout=0)
    with pytest.raises(ValueError, match="base_url"):
        BithumbClient(base_url="api.bithumb.com")
    with pytest.raises(ValueError, match="rate"):
        BithumbClient(max_requests_per_second=0)


# ----------------------------------------------------------------------------- errors and retries
def test_legacy_error_status_with_http_200_raises_api_error(
    client: BithumbClient, bithumb_server: FakeBithumb, sleeps: list[float]
) -> None:
    bithumb_server.route("/public/ticker/NOPE_KRW", fixture_reply("legacy_error_5600.json"))
    with pytest.raises(BithumbAPIError) as info:
        client.ticker("NOPE")
    err = info.value
    assert (err.status, err.http_status, err.endpoint) == ("5600", 200, "/public/ticker/NOPE_KRW")
    assert err.message == "코인명이 잘못 입력되었습니다."
    assert "/public/ticker/NOPE_KRW" in str(err) and "5600" in str(err) and err.message in str(err)
    assert isinstance(err, BithumbError)
    assert len(bithumb_server.requests) == 1 and sleeps == []  # API errors are not retried


def test_legacy_invalid_parameter_is_not_retried(client: BithumbClient, bithumb_server: FakeBithumb) -> None:
    bithumb_server.route("/public/transaction_history/BTC_KRW", fixture_reply("legacy_error_5500.json"))
    with pytest.raises(BithumbAPIError, match="status 5500, HTTP 200: Invalid Parameter"):
        client.transactions("btc")
    assert len(bithumb_server.requests) == 1


def test_legacy_temporary_status_is_retried(client: BithumbClient, bithumb_server: FakeBithumb,
                                            sleeps: list[float]) -> None:
    bithumb_server.route("/public/ticker/BTC_KRW", fixture_reply("legacy_error_5600_try_again.json"),
                         fixture_reply("legacy_ticker_BTC_KRW.json"))
    assert client.ticker("btc")["closing_price"].iloc[0] == 95187000.0
    assert len(bithumb_server.requests) == 2 and sleeps == [0.5]


def test_v1_error_body_with_http_400(client: BithumbClient, bithumb_server: FakeBithumb,
                                     sleeps: list[float]) -> None:
    bithumb_server.route("/v1/ticker", fixture_reply("v1_error_invalid_parameter.json", status=400))
    with pytest.raises(BithumbAPIError) as info:
        client.v1_ticker(["KRW-BTC"])
    err = info.value
    assert (err.status, err.http_status) == ("invalid_parameter", 400)
    assert err.message == "잘못된 파라미터 입니다."
    assert str(err).startswith("Bithumb /v1/ticker?markets=KRW-BTC -> status invalid_parameter, HTTP 400: ")
    assert len(bithumb_server.requests) == 1 and sleeps == []


def test_503_twice_then_success(client: BithumbClient, bithumb_server: FakeBithumb,
                                sleeps: list[float]) -> None:
    unavailable = Reply(503, b"<html>Service Temporarily Unavailable</html>", content_type="text/html")
    bithumb_server.route("/v1/trades/ticks", unavailable, unavailable, fixture_reply("v1_trades_ticks.json"))
    assert len(client.v1_trades("btc")) == 5
    assert len(bithumb_server.requests) == 3
    assert sleeps == [0.5, 1.0]  # exponential backoff through the injected sleep


def test_429_then_success_honours_retry_after(client: BithumbClient, bithumb_server: FakeBithumb,
                                              sleeps: list[float]) -> None:
    bithumb_server.route("/v1/orderbook",
                         Reply(429, b'{"error":{"name":"too_many_requests","message":"Too many requests"}}',
                               {"Retry-After": "2"}),
                         fixture_reply("v1_orderbook.json"))
    assert len(client.v1_orderbook(["btc", "eth"])) == 2
    assert sleeps == [2.0]


def test_429_then_success_without_retry_after(client: BithumbClient, bithumb_server: FakeBithumb,
                                              sleeps: list[float]) -> None:
    bithumb_server.route("/public/ticker/ALL_KRW",
                         Reply(429, b"Too Many Requests", content_type="text/plain"),
                         fixture_reply("legacy_ticker_ALL_KRW.json"))
    assert len(client.tickers_all_krw()) == 3
    assert sleeps == [0.5]


def test_retries_exhausted(client: BithumbClient, bithumb_server: FakeBithumb, sleeps: list[float]) -> None:
    bithumb_server.route("/public/orderbook/BTC_KRW",
                         Reply(500, b'{"status":"5400","message":"Database Fail"}'))
    with pytest.raises(BithumbHTTPError) as info:
        client.orderbook("btc")
    err = info.value
    assert len(bithumb_server.requests) == 4  # 1 + max_retries
    assert sleeps == [0.5, 1.0, 2.0]
    assert err.http_status == 500 and "gave up after 4 attempts" in str(err) and "Database Fail" in str(err)
    assert "/public/orderbook/BTC_KRW?count=30" in str(err)


def test_temporary_api_status_exhausted(bithumb_server: FakeBithumb, session: requests.Session,
                                        sleeps: list[float]) -> None:
    client = BithumbClient(base_url=bithumb_server.url, session=session, sleep=sleeps.append,
                           max_requests_per_second=math.inf, max_retries=1, backoff=0.25)
    bithumb_server.route("/public/ticker/BTC_KRW", fixture_reply("legacy_error_5600_try_again.json"))
    expected = "gave up after 2 attempts; last error: Please try again"
    with pytest.raises(BithumbHTTPError, match=expected) as info:
        client.ticker("btc")
    assert info.value.status == "5600" and isinstance(info.value.__cause__, BithumbAPIError)
    assert sleeps == [0.25]


def test_404_without_error_body(client: BithumbClient, bithumb_server: FakeBithumb,
                                sleeps: list[float]) -> None:
    with pytest.raises(BithumbHTTPError) as info:
        client.ticker("btc")  # no route -> an HTML 404 page
    err = info.value
    assert err.status == err.http_status == 404
    assert "<html><body><h1>404 Not Found" in err.message
    assert len(bithumb_server.requests) == 1 and sleeps == []


def test_non_json_body_names_its_first_bytes(client: BithumbClient, bithumb_server: FakeBithumb) -> None:
    page = b"<!DOCTYPE html><html><head><title>Bithumb</title>" + b"x" * 500
    bithumb_server.route("/v1/ticker", Reply(200, page, content_type="text/html"))
    with pytest.raises(BithumbHTTPError, match=r"not JSON; body starts '<!DOCTYPE html><html><head>") as info:
        client.v1_ticker(["btc"])
    assert info.value.http_status == 200
    assert len(info.value.message) < 250  # a snippet, not the whole page


def test_connection_refused_is_retried_then_raises(session: requests.Session, sleeps: list[float]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens there
    client = BithumbClient(base_url=f"http://127.0.0.1:{port}", session=session, sleep=sleeps.append,
                           max_requests_per_second=math.inf, max_retries=2, backoff=0.1)
    expected = "gave up after 3 attempts; last error: ConnectionError"
    with pytest.raises(BithumbHTTPError, match=expected) as info:
        client.ticker("btc")
    assert info.value.status is None and info.value.http_status is None
    assert "no response" in str(info.value)
    assert sleeps == [0.1, 0.2]


def test_timeout_is_retried_then_raises(session: requests.Session, sleeps: list[float]) -> None:
    with socket.socket() as listener:  # accepts connections (backlog) but never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        client = BithumbClient(base_url=f"http://127.0.0.1:{port}", session=session, sleep=sleeps.append,
                               max_requests_per_second=math.inf, max_retries=1, backoff=0.0, timeout=0.2)
        with pytest.raises(BithumbHTTPError, match="gave up after 2 attempts; last error: ReadTimeout"):
            client.v1_trades("btc")
    assert sleeps == [0.0]


def test_errors_pickle_round_trip() -> None:
    import pickle

    err = BithumbAPIError("Invalid Parameter", endpoint="/public/ticker/X_KRW", status="5500",
                          http_status=200)
    back = pickle.loads(pickle.dumps(err))  # noqa: S301 (our own bytes)
    assert type(back) is BithumbAPIError and str(back) == str(err) and back.status == "5500"


# ----------------------------------------------------------------------------------- rate limiter
class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_rate_limiter_min_interval() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    sent = []
    for _ in range(5):
        limiter.acquire()
        sent.append(clock.now)
    assert sent == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    assert limiter.min_interval == pytest.approx(0.1)


def test_rate_limiter_refills_while_idle() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2, clock=clock, sleep=clock.sleep)
    assert limiter.acquire() == 0.0
    clock.now += 10.0  # long idle: no wait, and no burst beyond the capacity of 1
    assert limiter.acquire() == 0.0
    assert limiter.acquire() == pytest.approx(0.5)


def test_rate_limiter_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(4, burst=3, clock=clock, sleep=clock.sleep)
    waits = [limiter.acquire() for _ in range(5)]
    assert waits == pytest.approx([0.0, 0.0, 0.0, 0.25, 0.25])


def test_rate_limiter_is_thread_safe() -> None:
    clock = FakeClock()  # frozen: every thread reserves at t=0
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    waits: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(20)

    def worker() -> None:
        barrier.wait()
        w = limiter.reserve()
        with lock:
            waits.append(w)

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(waits) == pytest.approx([i / 10 for i in range(20)])  # one distinct slot each


def test_rate_limiter_unlimited_and_invalid() -> None:
    clock = FakeClock()
    limiter = RateLimiter(math.inf, clock=clock, sleep=clock.sleep)
    assert [limiter.acquire() for _ in range(3)] == [0.0, 0.0, 0.0] and clock.sleeps == []
    for bad in (0, -1, "10"):
        with pytest.raises(ValueError, match="rate"):
            RateLimiter(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="burst"):
        RateLimiter(1, burst=0)


def test_client_waits_for_the_rate_limiter(bithumb_server: FakeBithumb, session: requests.Session) -> None:
    clock = FakeClock()
    limiter = RateLimiter(5, clock=clock, sleep=clock.sleep)
    client = BithumbClient(base_url=bithumb_server.url, session=session, rate_limiter=limiter,
                           sleep=clock.sleep)
    bithumb_server.route("/public/ticker/BTC_KRW", fixture_reply("legacy_ticker_BTC_KRW.json"))
    for _ in range(3):
        client.ticker("btc")
    assert clock.sleeps == pytest.approx([0.2, 0.2])  # spaced 1/5 s apart, before each request
    assert len(bithumb_server.requests) == 3


def test_client_rate_limits_retries_too(bithumb_server: FakeBithumb, session: requests.Session) -> None:
    clock = FakeClock()
    client = BithumbClient(base_url=bithumb_server.url, session=session, sleep=clock.sleep, backoff=0.01,
                           rate_limiter=RateLimiter(10, clock=clock, sleep=clock.sleep))
    bithumb_server.route("/v1/ticker", Reply(502, b"Bad Gateway", content_type="text/plain"),
                         fixture_reply("v1_ticker.json"))
    client.v1_ticker(["btc", "eth"])
    # backoff 0.01 s, then the limiter tops the gap up to its 0.1 s minimum interval
    assert clock.sleeps == pytest.approx([0.01, 0.09])


class RecordingSession(requests.Session):
    closed = False

    def close(self) -> None:
        self.closed = True
        super().close()


def test_client_closes_only_its_own_session() -> None:
    with BithumbClient() as client:
        own = client._session
    assert "api.bithumb.com" in repr(client)
    theirs = RecordingSession()
    with BithumbClient(session=theirs):
        pass
    assert not theirs.closed
    assert isinstance(own, requests.Session)


# ------------------------------------------------------------ ALL_KRW without date, shape vs. no response
def test_tickers_all_without_date_take_the_response_time() -> None:
    body = load("legacy_ticker_ALL_KRW_no_date.json")
    received = pd.Timestamp("2026-01-05 03:04:05.678901", tz="UTC")
    df = bh.parse_legacy_tickers_all(body, received)
    assert_columns(df, bh.TICKER_COLUMNS)
    assert df["symbol"].tolist() == ["KRW-BTC", "KRW-ETH"]
    assert (df["timestamp"] == pd.Timestamp("2026-01-05 03:04:05.678", tz="UTC")).all()
    assert df.set_index("symbol").loc["KRW-ETH", "change_rate_24h"] == pytest.approx(-0.82)
    with pytest.raises(BithumbResponseError, match="no 'date'") as info:
        bh.parse_legacy_tickers_all(body)  # a body alone has no time to take
    assert "no response" not in str(info.value)


def test_client_tickers_all_without_date(client: BithumbClient, bithumb_server: FakeBithumb) -> None:
    bithumb_server.route("/public/ticker/ALL_KRW", fixture_reply("legacy_ticker_ALL_KRW_no_date.json"))
    before = pd.Timestamp.now(tz="UTC").floor("ms")
    df = client.tickers_all_krw()
    after = pd.Timestamp.now(tz="UTC")
    assert df["symbol"].tolist() == ["KRW-BTC", "KRW-ETH"]
    assert df["timestamp"].nunique() == 1 and before <= df["timestamp"].iloc[0] <= after


@pytest.mark.parametrize(("path", "call", "body"), [
    ("/public/ticker/ALL_KRW", lambda c: c.tickers_all_krw(), {"status": "0000", "data": ["BTC"]}),
    ("/public/ticker/BTC_KRW", lambda c: c.ticker("btc"), {"status": "0000", "data": {"date": "1"}}),
    ("/v1/ticker", lambda c: c.v1_ticker(["btc"]), [{"market": "KRW-BTC"}]),
    ("/v1/candles/minutes/1", lambda c: c.v1_candles("btc", "1m"), {"candles": []}),
])
def test_a_200_body_of_the_wrong_shape_is_not_no_response(client: BithumbClient, bithumb_server: FakeBithumb,
                                                           path: str, call: Any, body: Any) -> None:
    bithumb_server.route(path, Reply(200, json.dumps(body).encode()))
    with pytest.raises(BithumbResponseError) as info:
        call(client)
    assert info.value.http_status == 200
    assert "HTTP 200" in str(info.value) and "no response" not in str(info.value)
    assert "unexpected response shape" in str(info.value) or "expected a JSON array" in str(info.value)
