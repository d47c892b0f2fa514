"""Paper replay over stored candles against the backtest of the same strategy, symbols, window and costs."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from workbench.app.paper.reconcile import paper_trades, reconcile_run
from workbench.app.paper.runner import replay, resume
from workbench.cli import app
from workbench.core.backtest import BacktestConfig, run_backtest
from workbench.core.paper.rules import OrderRules
from workbench.core.strategies import EmaCross, Risk
from workbench.ingest.sample import generate_sample_candles
from workbench.store.paper import get_run, run_frames
from workbench.store.paper_keys import redis_client
from workbench.store.writer import write_table

pytestmark = [pytest.mark.db, pytest.mark.redis]

START, END = "2025-01-01", "2025-01-15"
SYMBOLS = ["KRW-SYNBTC", "KRW-SYNETH", "KRW-SYNXRP"]


def _store(db, drop_some: bool = True) -> dict[str, pd.DataFrame]:
    frame = generate_sample_candles({"KRW-SYNBTC": 95e6, "KRW-SYNETH": 4.8e6, "KRW-SYNXRP": 3100.0},
                                    start=START, days=14, timeframe="1h", seed=7)
    if drop_some:  # KRW-SYNXRP misses some bars: flat bars in the backtest, no bar for the paper run
        xrp = frame["symbol"] == "KRW-SYNXRP"
        frame = frame[~(xrp & (frame["timestamp"].dt.hour == 5) & (frame["timestamp"].dt.day % 3 == 0))]
    write_table(db, "candles", frame)
    return {s: g.set_index("timestamp")[["open_price", "high_price", "low_price", "close_price", "volume"]]
            .set_axis(["open", "high", "low", "close", "volume"], axis=1).rename_axis("ts")
            for s, g in frame.groupby("symbol")}


def _sorted(trades: pd.DataFrame) -> pd.DataFrame:
    return trades.sort_values(["entry_time", "symbol"]).reset_index(drop=True)


def _strategy():
    return EmaCross(fast=3, slow=8, risk=Risk(risk_per_trade=2.0, max_positions=2, stop_loss_pct=1.5,
                                               take_profit_pct=2.5))


def test_replay_with_rules_off_reconciles_to_zero(session):
    """The rules are off here (OrderRules.off()): fills must then be the backtest's, exactly."""
    data = _store(session.db)
    config = BacktestConfig(slippage=0.0007)
    out = replay(session, _strategy(), SYMBOLS, "1h", START, END, config=config, rules=OrderRules.off())
    assert out.status == "finished" and out.bars == 14 * 24
    bt = run_backtest({s: data[s] for s in SYMBOLS}, _strategy(), config, timeframe="1h")
    assert len(bt.trades) > 20 and (bt.trades["exit_reason"] == "stop_loss").any()
    assert (bt.trades["exit_reason"] == "take_profit").any() and (bt.trades["exit_reason"] == "signal").any()
    paper = paper_trades(run_frames(session.db, out.run_id)["positions"])
    pd.testing.assert_frame_equal(_sorted(paper), _sorted(bt.trades), check_dtype=False, check_exact=True)
    rec = reconcile_run(session, out.run_id)
    assert rec.is_exact, str(rec)
    assert rec.total_difference == 0.0
    assert len(rec.matched) == len(bt.trades)
    equity = run_frames(session.db, out.run_id)["equity"].set_index("ts")["equity"]
    assert equity.to_numpy().tolist() == bt.equity.to_numpy().tolist()


def test_stop_and_resume_makes_no_double_orders(session):
    _store(session.db)
    config = BacktestConfig()
    first = replay(session, _strategy(), SYMBOLS, "1h", START, END, config=config, rules=OrderRules.off(),
                   max_bars=100)
    assert first.status == "stopped" and first.bars == 100
    again = resume(session, first.run_id, max_bars=0)        # nothing new: no rows, no orders
    assert again.bars == 0
    rest = resume(session, first.run_id)
    assert rest.status == "finished" and rest.bars == 14 * 24 - 100
    frames = run_frames(session.db, first.run_id)
    orders = frames["orders"]
    assert not orders["bithumb_order_id"].duplicated().any()
    assert (orders["status"] != "pending").sum() >= len(orders) - 3   # only the last bar's orders may wait
    # the same result as one uninterrupted run
    whole = replay(session, _strategy(), SYMBOLS, "1h", START, END, config=config, rules=OrderRules.off())
    a = paper_trades(frames["positions"])
    b = paper_trades(run_frames(session.db, whole.run_id)["positions"])
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert get_run(session.db, first.run_id).bars_processed == 14 * 24


def test_replay_with_bithumb_rules_explains_the_difference(session):
    """Rules on (ticks, 5,000 KRW minimum, 4 decimals): the reconciliation's causes add up to the
    difference, and each matched entry paid at least the backtest's price (buys round up)."""
    _store(session.db)
    config = BacktestConfig()
    out = replay(session, _strategy(), SYMBOLS, "1h", START, END, config=config)
    rec = reconcile_run(session, out.run_id)
    assert not rec.is_exact and rec.total_difference != 0.0
    assert rec.decomposition.sum() == pytest.approx(rec.total_difference, abs=1e-6)
    assert rec.summary().loc["total", "krw"] == pytest.approx(rec.total_difference)
    assert len(rec.matched) > 10
    assert (rec.matched["entry_price_p"] >= rec.matched["entry_price_b"]).all()
    assert (rec.matched["entry_price_p"] > rec.matched["entry_price_b"]).any()
    sizes = rec.matched["size_p"].to_numpy()
    assert (abs(sizes * 1e4 - (sizes * 1e4).round()) < 1e-6).all()          # 4 decimals
    assert rec.decomposition["entry_price"] < 0 and rec.decomposition["fees"] != 0
    assert any("order rules were on" in n for n in rec.notes)
    assert rec.signals.empty                                                  # same decisions
    slip = rec.slippage()
    assert (slip["entry_bps"] >= 0).all() and slip["entry_bps"].max() > 0


def test_fills_walk_stored_order_books(session):
    """Where order books are stored, a buy at the open pays the average of the levels it takes."""
    data = _store(session.db, drop_some=False)
    btc = data["KRW-SYNBTC"]
    rows = []
    for ts, bar in btc.iterrows():
        p1, p2 = round(bar.open * 1.001, -3), round(bar.open * 1.003, -3)
        rows.append({"symbol": "KRW-SYNBTC", "timestamp": ts - pd.Timedelta(minutes=1),
                     "bids": f"[[{round(bar.open * 0.999, -3)}, 100.0]]", "asks": f"[[{p1}, 0.001], [{p2}, 100.0]]",
                     "bid_volume": 100.0, "ask_volume": 100.001, "spread": p1 - round(bar.open * 0.999, -3),
                     "mid_price": (p1 + round(bar.open * 0.999, -3)) / 2})
    write_table(session.db, "orderbooks", pd.DataFrame(rows))
    out = replay(session, _strategy(), ["KRW-SYNBTC"], "1h", START, END, config=BacktestConfig())
    pos = run_frames(session.db, out.run_id)["positions"]
    assert len(pos) > 3
    for _, p in pos.iterrows():
        bar = btc.loc[p["opened_at"]]
        p1, p2 = round(bar.open * 1.001, -3), round(bar.open * 1.003, -3)
        q = p["quantity"]
        assert p["entry_price"] == pytest.approx((0.001 * p1 + (q - 0.001) * p2) / q, rel=1e-12)
        if p["exit_reason"] == "signal":                                     # sells walk the bids
            assert p["exit_price"] == pytest.approx(round(btc.loc[p["closed_at"]].open * 0.999, -3), rel=1e-12)


def test_redis_mirror(session):
    _store(session.db)
    out = replay(session, _strategy(), SYMBOLS, "1h", START, END, rules=OrderRules.off())
    run = get_run(session.db, out.run_id)
    client = redis_client(session.cache)
    status = json.loads(client.get(f"strategy:{run.strategy_id}:status"))
    assert status["state"] == "finished" and status["paper_run_id"] == out.run_id
    signals = client.lrange(f"strategy:{run.strategy_id}:signals", 0, -1)
    assert len(signals) == min(100, out.signals) and out.signals > 100
    newest = json.loads(signals[0])
    assert newest["bar"] == run.last_bar.isoformat() or pd.Timestamp(newest["bar"]) <= run.last_bar
    orders = run_frames(session.db, out.run_id)["orders"]
    filled = orders[orders["status"] == "filled"]
    first = json.loads(client.get(f"order:{int(filled['id'].iloc[0])}:status"))
    assert first["status"] == "filled" and first["price"] == filled["price"].iloc[0]
    pending = {int(i) for i in orders.loc[orders["status"] == "pending", "id"]}
    active = {int(x) for x in client.smembers(f"user:{run.user_id}:active_orders")}
    assert active == pending
    notes = [json.loads(n) for n in client.lrange(f"notifications:{run.user_id}", 0, -1)]
    assert notes[0]["kind"] == "paper_run_finished" and notes[0]["data"]["fills"] == len(filled)
    fills = [n for n in notes if n["kind"] == "paper_fill"]
    assert len(notes) < 200 and len(fills) == len(filled)      # all kept: fewer than the list's bound
    newest = filled.sort_values("id").iloc[-1]
    assert fills[0]["data"]["order_id"] == int(newest["id"]) and fills[0]["data"]["price"] == newest["price"]


def test_cli_paper_and_reconcile(session, cli_env, monkeypatch):
    _store(session.db)
    monkeypatch.setenv("COLUMNS", "250")   # rich wraps tables at the terminal width
    runner = CliRunner()
    res = runner.invoke(app, ["paper", "EmaCross", "--symbols", "KRW-SYNBTC,KRW-SYNETH", "--replay", START, END,
                              "--param", "fast=3", "--param", "slow=8", "--no-exchange-rules"],
                        catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "paper run 1 (finished): 336 bars" in res.output
    res = runner.invoke(app, ["reconcile", "1"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "difference ₩0" in res.output and "0 extra, 0 missed" in res.output
    res = runner.invoke(app, ["paper-runs"], catch_exceptions=False)
    assert "EmaCross" in res.output and "finished" in res.output
    with pytest.raises(SystemExit) as exc:
        main_args(["reconcile", "99"])
    assert exc.value.code == 1


def main_args(args: list[str]) -> None:
    import sys

    from workbench.cli import main

    old = sys.argv
    sys.argv = ["workbench", *args]
    try:
        main()
    finally:
        sys.argv = old


def _count(db, table: str) -> int:
    with db.begin() as conn:
        return int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())


@pytest.mark.parametrize("symbols, start, end, speed, message", [
    (["KRW-SYNBTC", "KRW-NOPE"], START, END, None,
     "no stored 1h candles of KRW-NOPE in [2025-01-01 00:00:00+00:00, 2025-01-15 00:00:00+00:00); "
     "no paper run was created (see `workbench inventory`)"),
    (SYMBOLS, "2020-01-01", "2020-01-02", None,
     "no stored 1h candles of KRW-SYNBTC, KRW-SYNETH, KRW-SYNXRP in [2020-01-01 00:00:00+00:00, "
     "2020-01-02 00:00:00+00:00); no paper run was created (see `workbench inventory`)"),
    (SYMBOLS, START, END, 1e-300, "speed must be a finite number >= 0.001 and <= 1e+06 x real time (got 1e-300)"),
    (SYMBOLS, START, END, float("nan"), "speed must be a finite number >= 0.001 and <= 1e+06 x real time (got nan)"),
])
def test_a_replay_that_cannot_start_writes_no_row(session, symbols, start, end, speed, message):  # type: ignore[no-untyped-def]
    from workbench.errors import ValidationError

    _store(session.db)
    tables = ("users", "strategies", "paper_runs", "portfolios", "strategy_executions")
    before = {t: _count(session.db, t) for t in tables}
    with pytest.raises(ValidationError) as err:
        replay(session, _strategy(), symbols, "1h", start, end, speed=speed)
    assert str(err.value) == message
    assert {t: _count(session.db, t) for t in tables} == before


def test_paper_capital_inf_on_the_cli_is_one_line_and_writes_nothing(session, cli_env):  # type: ignore[no-untyped-def]
    _store(session.db)
    result = CliRunner().invoke(app, ["paper", "EmaCross", "--symbols", "KRW-SYNBTC", "--capital", "inf",
                                      "--replay", START, END])
    assert result.exit_code == 1
    assert str(result.exception) == "--capital must be a finite number > 0 and <= 1e+15 KRW (got inf)"
    assert _count(session.db, "paper_runs") == 0 and _count(session.db, "portfolios") == 0
