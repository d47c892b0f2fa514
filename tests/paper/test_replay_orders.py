"""Paper replay with order types (limit buys, sell limits, trailing stops, time exits), a volume cap
and per-signal sizes, against the backtest: with the exchange rules off the paper broker calls the same
fill primitive as the kernel, so trades, partial fills and every equity value agree exactly."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.app.paper.reconcile import paper_trades, reconcile_run
from workbench.app.paper.runner import replay
from workbench.core.backtest import BacktestConfig, run_backtest
from workbench.core.indicators import ema
from workbench.core.paper.rules import OrderRules
from workbench.core.strategies import Orders, Risk, crossed_above, crossed_below, strategy
from workbench.ingest.sample import generate_sample_candles
from workbench.store.paper import run_frames
from workbench.store.writer import write_table

pytestmark = [pytest.mark.db, pytest.mark.redis]

START, END = "2025-01-01", "2025-01-11"
SYMBOLS = ["KRW-SYNBTC", "KRW-SYNETH"]


@strategy("ema_orders_replay", "day_trading")
def ema_orders_replay(df: pd.DataFrame, *, fast: int = 3, slow: int = 8) -> Orders:
    f, s = ema(df["close"], fast), ema(df["close"], slow)
    return Orders(crossed_above(f, s), crossed_below(f, s), limit=df["close"] * 0.998,
                  exit_limit=df["close"] * 1.004, size=(df["close"] / df["close"].rolling(5).max()) * 0.4)


def _store(db) -> dict[str, pd.DataFrame]:
    frame = generate_sample_candles({"KRW-SYNBTC": 95e6, "KRW-SYNETH": 4.8e6}, start=START, days=10,
                                    timeframe="1h", seed=11)
    write_table(db, "candles", frame)
    return {s: g.set_index("timestamp")[["open_price", "high_price", "low_price", "close_price", "volume"]]
            .set_axis(["open", "high", "low", "close", "volume"], axis=1).rename_axis("ts")
            for s, g in frame.groupby("symbol")}


def _sorted(trades: pd.DataFrame) -> pd.DataFrame:
    return trades.sort_values(["entry_time", "symbol"]).reset_index(drop=True)


def test_replay_with_order_types_and_volume_cap_reconciles_to_zero(session):
    data = _store(session.db)
    risk = Risk(max_positions=2, stop_loss_pct=1.5, take_profit_pct=0, trailing_stop_pct=2.5, max_bars=8,
                sizing="signal")
    strat = ema_orders_replay(risk=risk)
    config = BacktestConfig(slippage=0.0005, volume_share=0.02)
    out = replay(session, strat, SYMBOLS, "1h", START, END, config=config, rules=OrderRules.off())
    assert out.status == "finished"
    bt = run_backtest({s: data[s] for s in SYMBOLS}, strat, config, timeframe="1h")
    reasons = set(bt.trades["exit_reason"])
    assert len(bt.trades) >= 8 and {"trailing_stop", "limit", "time", "stop_loss"} <= reasons, reasons
    assert bt.fills is not None and len(bt.fills) > 2 * len(bt.trades)        # some orders filled in parts
    frames = run_frames(session.db, out.run_id)
    paper = paper_trades(frames["positions"])
    pd.testing.assert_frame_equal(_sorted(paper), _sorted(bt.trades), check_dtype=False, check_exact=True)
    fills = [d for d in frames["executions"]["order_data"] if d and d.get("status") in ("filled", "partially_filled")]
    got = sorted((d["symbol"], pd.Timestamp(d["bar"]), d["side"], d["quantity"], d["price"], d["reason"]) for d in fills)
    want = bt.fills[["symbol", "ts", "side", "quantity", "price", "reason"]]
    assert got == sorted(want.itertuples(index=False, name=None))               # every fill, parts included
    assert sum(d["status"] == "partially_filled" for d in fills) > 0
    equity = frames["equity"].set_index("ts")["equity"]
    assert equity.to_numpy().tolist() == bt.equity.to_numpy().tolist()
    rec = reconcile_run(session, out.run_id)
    assert rec.is_exact, str(rec)
