"""Paper runs of a portfolio strategy: a replay over stored candles fills exactly as the portfolio backtest
(orders, equity, holdings), keeps the run's ``portfolios`` row (holdings, last_rebalanced) true, resumes
after a stop or a crash inside a bar without repeating an order, and reconciles to zero difference."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from workbench.app.paper.reconcile import reconcile_run
from workbench.app.paper.runner import replay, resume
from workbench.cli import app
from workbench.core.backtest import BacktestConfig
from workbench.core.backtest.portfolio import ExchangeRules, run_portfolio_backtest
from workbench.core.paper.rules import OrderRules
from workbench.core.strategies.portfolio import MomentumRotation
from workbench.ingest.sample import generate_sample_candles
from workbench.store.paper import BarLedger, get_run, run_frames
from workbench.store.writer import write_table

pytestmark = [pytest.mark.db, pytest.mark.redis]

START, END = "2025-01-01", "2025-01-11"
SYMBOLS = ["KRW-SYNBTC", "KRW-SYNETH", "KRW-SYNXRP"]
BARS = 10 * 24


def _store(db) -> dict[str, pd.DataFrame]:  # type: ignore[no-untyped-def]
    """Ten days of 1h bars: KRW-SYNETH listed from day 2, KRW-SYNXRP missing some bars and delisted
    after day 8 (sold at its last close)."""
    frame = generate_sample_candles({"KRW-SYNBTC": 95e6, "KRW-SYNETH": 4.8e6, "KRW-SYNXRP": 3100.0},
                                    start=START, days=10, timeframe="1h", seed=2)
    frame = frame[~((frame["symbol"] == "KRW-SYNETH") & (frame["timestamp"] < pd.Timestamp("2025-01-02", tz="UTC")))]
    ts, sym = frame["timestamp"], frame["symbol"]
    frame = frame[~((sym == "KRW-SYNXRP") & ((ts >= pd.Timestamp("2025-01-09", tz="UTC"))
                                              | ((ts.dt.hour == 5) & (ts.dt.day % 3 == 0))))]
    write_table(db, "candles", frame)
    return {s: g.set_index("timestamp")[["open_price", "high_price", "low_price", "close_price", "volume"]]
            .set_axis(["open", "high", "low", "close", "volume"], axis=1).rename_axis("ts")
            for s, g in frame.groupby("symbol")}


def _strategy() -> MomentumRotation:
    return MomentumRotation(lookback=6, top=2, rebalance=5)


def _orders(db, run_id: int) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The run's fills in the order made, in the backtest's order-list columns."""
    o = run_frames(db, run_id)["orders"]
    return pd.DataFrame({"time": pd.to_datetime(o["filled_at"], utc=True), "symbol": o["symbol"],
                         "side": o["order_type"].astype(str), "size": o["quantity"].astype(float),
                         "price": o["price"].astype(float), "fee": o["fee"].astype(float),
                         "reason": o["notes"]})


def _backtest(data: dict[str, pd.DataFrame], config: BacktestConfig, rules: ExchangeRules):  # type: ignore[no-untyped-def]
    return run_portfolio_backtest({s: data[s] for s in SYMBOLS}, _strategy(), config, rules=rules, timeframe="1h")


def _portfolio_row(db, run_id: int) -> dict:  # type: ignore[no-untyped-def]
    with db.begin() as conn:
        return dict(conn.execute(sa.text(
            "SELECT p.holdings, p.last_rebalanced, p.total_balance, p.available_balance FROM portfolios p "
            "JOIN paper_runs r ON r.portfolio_id = p.id WHERE r.id = :id"), {"id": run_id}).mappings().one())


def _check_against(db, run_id: int, bt) -> None:  # type: ignore[no-untyped-def]
    """Fills, equity, holdings and last rebalance of paper run ``run_id`` are the backtest's, exactly."""
    expected = bt.orders[["time", "symbol", "side", "size", "price", "fee", "reason"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(_orders(db, run_id), expected, check_exact=True, check_dtype=False)
    equity = run_frames(db, run_id)["equity"].set_index("ts")["equity"]
    assert equity.to_numpy().tolist() == bt.equity.to_numpy().tolist()
    row = _portfolio_row(db, run_id)
    held = {s: h["quantity"] for s, h in row["holdings"].items()}
    assert held == {s: u for s, u in bt.holdings().items() if u > 0}
    assert row["total_balance"] == bt.equity.iloc[-1]
    rebalance_times = bt.orders.loc[bt.orders["reason"] == "rebalance", "time"]
    assert pd.Timestamp(row["last_rebalanced"]) >= rebalance_times.max()


@pytest.mark.parametrize("rules_on", [False, True], ids=["rules-off", "bithumb-rules"])
def test_portfolio_replay_fills_as_the_backtest_and_reconciles_to_zero(session, rules_on: bool) -> None:  # type: ignore[no-untyped-def]
    data = _store(session.db)
    config = BacktestConfig(slippage=0.0007)
    rules = OrderRules() if rules_on else OrderRules.off()
    out = replay(session, _strategy(), SYMBOLS, "1h", START, END, config=config, rules=rules)
    assert out.status == "finished" and out.bars == BARS
    # the portfolio backtest with the same rules, set by hand: Bithumb's ticks and 5,000 KRW minimum and the
    # 4 quantity decimals as the lot; or none
    engine = ExchangeRules() if rules_on else ExchangeRules.off()
    bt = _backtest(data, BacktestConfig(slippage=0.0007, size_step=1e-4 if rules_on else 0.0), engine)
    reasons = set(bt.orders["reason"])
    assert reasons == {"rebalance", "delisted"} and len(bt.orders) > 30
    assert bt.orders["time"].min() > pd.Timestamp("2025-01-01 05:00", tz="UTC")   # after the lookback
    _check_against(session.db, out.run_id, bt)
    rec = reconcile_run(session, out.run_id)
    assert rec.is_exact, str(rec)
    assert rec.total_difference == 0.0 and rec.signals.empty
    assert len(rec.matched) == len(bt.trades) and rec.extra.empty and rec.missed.empty
    assert out.fills == len(bt.orders)


def test_stop_and_resume_and_a_crash_inside_a_bar_repeat_no_order(session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    data = _store(session.db)
    config = BacktestConfig()
    first = replay(session, _strategy(), SYMBOLS, "1h", START, END, config=config, rules=OrderRules.off(),
                   max_bars=60)
    assert first.status == "stopped" and first.bars == 60
    assert resume(session, first.run_id, max_bars=0).bars == 0
    # a crash while bar 150 is written (after its fills): the bar's transaction is rolled back
    crash_at = pd.Timestamp("2025-01-01", tz="UTC") + pd.Timedelta(hours=150)
    real = BarLedger.portfolio

    def failing(self, ts, **kw):  # type: ignore[no-untyped-def]
        if ts == crash_at:
            raise RuntimeError("killed")
        return real(self, ts, **kw)

    monkeypatch.setattr(BarLedger, "portfolio", failing)
    with pytest.raises(RuntimeError, match="killed"):
        resume(session, first.run_id)
    run = get_run(session.db, first.run_id)
    assert run.status == "failed" and run.last_bar == crash_at - pd.Timedelta(hours=1)
    monkeypatch.setattr(BarLedger, "portfolio", real)
    rest = resume(session, first.run_id)
    assert rest.status == "finished" and rest.bars == BARS - 150
    orders = run_frames(session.db, first.run_id)["orders"]
    assert not orders["bithumb_order_id"].duplicated().any() and (orders["status"] == "filled").all()
    assert get_run(session.db, first.run_id).bars_processed == BARS
    _check_against(session.db, first.run_id, _backtest(data, config, ExchangeRules.off()))


def test_cli_paper_replay_of_a_portfolio_strategy(session, cli_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    data = _store(session.db)
    result = CliRunner().invoke(app, ["paper", "MomentumRotation", "--symbols", ",".join(SYMBOLS), "--replay", START,
                                      END, "--param", "lookback=6", "--param", "top=2", "--param", "rebalance=5",
                                      "--no-exchange-rules"], catch_exceptions=False, terminal_width=200)
    assert result.exit_code == 0, result.output
    bt = _backtest(data, BacktestConfig(), ExchangeRules.off())
    line = re.search(r"paper run (\d+) \(finished\): 240 bars, (\d+) signals, (\d+) fills, 0 orders not filled, "
                     r"0 errors; equity ([\d,]+) KRW; last bar 2025-01-10 23:00:00\+00:00 reconcile with the backtest: "
                     r"workbench reconcile (\d+)$", " ".join(result.output.split()))    # the last lines, unwrapped
    assert line is not None, result.output
    assert line.group(1) == line.group(5) and int(line.group(3)) == len(bt.orders)
    assert int(line.group(4).replace(",", "")) == round(bt.equity.iloc[-1])
    assert int(line.group(2)) == int(np.asarray(~bt.weights.isna().all(axis=1)).sum())
    result = CliRunner().invoke(app, ["reconcile", line.group(1)], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def test_live_portfolio_run_reconciles_with_the_backtest(session, fake_bithumb) -> None:  # type: ignore[no-untyped-def]
    """Polled from the fake Bithumb server: warm-up bars trade nothing, then every complete bar is traded;
    the run reconciles to zero with the portfolio backtest from its live start."""
    import math

    import requests
    from fake_bithumb import json_reply

    from workbench.app.paper.runner import live
    from workbench.ingest.bithumb import BithumbClient

    base = pd.Timestamp("2025-03-01", tz="UTC")
    frame = generate_sample_candles({"KRW-SYNBTC": 95e6, "KRW-SYNETH": 4.8e6, "KRW-SYNXRP": 3100.0}, start=base,
                                    days=6, timeframe="1h", seed=5)
    market = {s: g.set_index("timestamp") for s, g in frame.groupby("symbol")}
    now = [base + pd.Timedelta(hours=30, minutes=20)]

    def answer(query: dict[str, list[str]]):  # type: ignore[no-untyped-def]
        g = market[query["market"][0]]
        g = g[g.index <= now[0]].tail(int(query["count"][0])).iloc[::-1]
        return json_reply([{
            "market": query["market"][0], "candle_date_time_utc": ts.strftime("%Y-%m-%dT%H:%M:%S"),
            "candle_date_time_kst": (ts + pd.Timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M:%S"),
            "opening_price": r.open_price, "high_price": r.high_price, "low_price": r.low_price,
            "trade_price": r.close_price, "timestamp": int(ts.timestamp() * 1000),
            "candle_acc_trade_price": r.close_price * r.volume, "candle_acc_trade_volume": r.volume, "unit": 60,
        } for ts, r in g.iterrows()])

    def sleep(seconds: float) -> None:
        now[0] += pd.Timedelta(seconds=seconds)

    fake_bithumb.route_fn("/v1/candles/minutes/60", answer)
    http = requests.Session()
    http.trust_env = False
    client = BithumbClient(base_url=fake_bithumb.url, session=http, sleep=lambda s: None,
                           max_requests_per_second=math.inf, max_retries=2, backoff=0.01, timeout=5.0)
    out = live(session, _strategy(), SYMBOLS, "1h", client, rules=OrderRules.off(), warmup=24, poll_interval=3600,
               max_polls=60, now=lambda: now[0], sleep=sleep)
    run = get_run(session.db, out.run_id)
    assert out.errors == [] and run.trade_start == pd.Timestamp("2025-03-02 06:00", tz="UTC")
    assert run.last_bar == pd.Timestamp("2025-03-04 16:00", tz="UTC")      # 60 hourly polls, complete bars only
    orders = _orders(session.db, out.run_id)
    assert len(orders) > 10 and (orders["time"] >= run.trade_start).all()  # nothing traded in the warm-up
    rec = reconcile_run(session, out.run_id)
    assert rec.is_exact, str(rec)
    assert rec.total_difference == 0.0 and len(rec.matched) == len(rec.backtest.trades)
    expected = rec.backtest.orders[["time", "symbol", "side", "size", "price", "fee", "reason"]]
    pd.testing.assert_frame_equal(orders, expected.reset_index(drop=True), check_exact=True, check_dtype=False)


def test_a_killed_portfolio_run_resumes_without_repeating_an_order(session, cli_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """SIGKILL of the process running the replay (a crash at any point), then ``--resume``: the orders,
    equity and holdings are those of the backtest, each order once."""
    import os
    import signal
    import subprocess
    import sys
    import time

    data = _store(session.db)
    env = {**os.environ, **cli_env, "COLUMNS": "200"}
    cli = [sys.executable, "-c", "from workbench.cli import main; main()"]
    # 240 one-hour bars at 36,000x real time: 0.1 s a bar
    proc = subprocess.Popen([*cli, "paper", "MomentumRotation", "--symbols", ",".join(SYMBOLS), "--replay", START,
                             END, "--param", "lookback=6", "--param", "top=2", "--param", "rebalance=5",
                             "--no-exchange-rules", "--speed", "36000"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)

    def processed() -> int:
        with session.db.begin() as conn:
            return int(conn.execute(sa.text("SELECT coalesce(max(bars_processed), 0) FROM paper_runs")).scalar_one())

    try:
        deadline = time.monotonic() + 240
        while processed() < 40 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be killed"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    killed_at = processed()
    assert 40 <= killed_at < BARS
    with session.db.begin() as conn:
        run_id = int(conn.execute(sa.text("SELECT id FROM paper_runs")).scalar_one())
    rest = resume(session, run_id)
    assert rest.status == "finished" and rest.bars == BARS - killed_at
    orders = run_frames(session.db, run_id)["orders"]
    assert not orders["bithumb_order_id"].duplicated().any() and (orders["status"] == "filled").all()
    _check_against(session.db, run_id, _backtest(data, BacktestConfig(), ExchangeRules.off()))
