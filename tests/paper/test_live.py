"""Live paper trading against the fake Bithumb server on 127.0.0.1: polling, rate-limit answers, server
errors, disconnects, a client that gives up, and a live run that reconciles with its backtest."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import requests
from fake_bithumb import FakeBithumb, Reply, json_reply

from workbench.app.paper.reconcile import reconcile_run
from workbench.app.paper.runner import live, resume
from workbench.core.paper.rules import OrderRules
from workbench.core.strategies import EmaCross, Risk
from workbench.ingest.bithumb import BithumbClient
from workbench.ingest.sample import generate_sample_candles
from workbench.store.paper import get_run, run_frames

pytestmark = [pytest.mark.db, pytest.mark.redis]

PATH = "/v1/candles/minutes/60"
BASE = pd.Timestamp("2025-03-01", tz="UTC")
SYMBOLS = ["KRW-SYNBTC", "KRW-SYNETH"]


class Clock:
    def __init__(self, now: pd.Timestamp) -> None:
        self.now = now

    def __call__(self) -> pd.Timestamp:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += pd.Timedelta(seconds=seconds)


def _market() -> dict[str, pd.DataFrame]:
    frame = generate_sample_candles({"KRW-SYNBTC": 95e6, "KRW-SYNETH": 4.8e6}, start=BASE, days=12,
                                    timeframe="1h", seed=11)
    return {s: g.set_index("timestamp") for s, g in frame.groupby("symbol")}


def _serve(fake: FakeBithumb, market: dict[str, pd.DataFrame], clock: Clock) -> None:
    """Bithumb's v1 candle answers as of the clock: newest first, the bar in progress included."""

    def answer(query: dict[str, list[str]]) -> Reply:
        sym, count = query["market"][0], int(query["count"][0])
        g = market[sym]
        g = g[g.index <= clock.now].tail(count).iloc[::-1]
        return json_reply([{
            "market": sym,
            "candle_date_time_utc": ts.strftime("%Y-%m-%dT%H:%M:%S"),
            "candle_date_time_kst": (ts + pd.Timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M:%S"),
            "opening_price": r.open_price, "high_price": r.high_price, "low_price": r.low_price,
            "trade_price": r.close_price, "timestamp": int(ts.timestamp() * 1000),
            "candle_acc_trade_price": r.close_price * r.volume, "candle_acc_trade_volume": r.volume, "unit": 60,
        } for ts, r in g.iterrows()])

    fake.route_fn(PATH, answer)


def _client(fake: FakeBithumb, waits: list[float]) -> BithumbClient:
    s = requests.Session()
    s.trust_env = False
    return BithumbClient(base_url=fake.url, session=s, sleep=waits.append, max_requests_per_second=math.inf,
                         max_retries=3, backoff=0.01, timeout=5.0)


def _strategy() -> EmaCross:
    return EmaCross(fast=3, slow=8, risk=Risk(max_positions=1, stop_loss_pct=1.5, take_profit_pct=2.5))


def test_live_run_survives_errors_and_reconciles_with_the_backtest(session, fake_bithumb: FakeBithumb):
    market = _market()
    clock = Clock(BASE + pd.Timedelta(hours=60, minutes=20))
    _serve(fake_bithumb, market, clock)
    waits: list[float] = []
    # poll 1 (warm-up + first bars): a 500, then a 429 with Retry-After, then a dropped connection
    fake_bithumb.queue(PATH, Reply(500, b"<html>oops</html>", content_type="text/html"),
                       json_reply({"error": {"name": "too_many_requests", "message": "slow down"}}, 429,
                                  **{"Retry-After": "2"}),
                       Reply(disconnect=True))
    out = live(session, _strategy(), SYMBOLS, "1h", _client(fake_bithumb, waits), rules=OrderRules.off(),
               warmup=48, poll_interval=3600, max_polls=3, now=clock, sleep=clock.sleep)
    assert out.errors == [] and out.bars > 0
    assert 2.0 in waits                                   # Retry-After was honoured by the client
    run = get_run(session.db, out.run_id)
    assert run.trade_start == pd.Timestamp("2025-03-03 12:00", tz="UTC")
    # only complete bars: the bar in progress at the last poll was not traded
    assert run.last_bar is not None and run.last_bar + pd.Timedelta(hours=1) <= clock.now
    # the server fails every attempt of one poll: an error row, then polling goes on
    fake_bithumb.queue(PATH, *[Reply(503, b"busy", content_type="text/plain")] * 4)
    more = resume(session, out.run_id, client=_client(fake_bithumb, waits), poll_interval=3600, max_polls=150,
                  now=clock, sleep=clock.sleep)
    assert len(more.errors) == 1 and "gave up after 4 attempts" in more.errors[0]
    frames = run_frames(session.db, out.run_id)
    ex = frames["executions"]
    assert (ex["execution_type"] == "error").sum() == 1 and not ex.loc[ex["execution_type"] == "error", "success"].any()
    assert (ex["execution_type"] == "signal").sum() > 5 and (ex["execution_type"] == "order").sum() > 5
    last = get_run(session.db, out.run_id).last_bar
    assert last is not None and last + pd.Timedelta(hours=1) <= clock.now
    # nothing was traded before the live start (warm-up bars only)
    assert (frames["positions"]["opened_at"] >= run.trade_start).all()
    assert len(frames["positions"]) >= 3
    rec = reconcile_run(session, out.run_id)
    assert rec.is_exact, str(rec)
    assert len(rec.matched) == len(frames["positions"])
