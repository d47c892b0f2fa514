from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from workbench.backtest import BacktestConfig, prepare_data, run_backtest, run_sweep, walk_forward
from workbench.backtest.stats import drawdown
from workbench.errors import ValidationError
from workbench.strategies import EmaCross, Risk, strategy

IDX = pd.date_range("2025-01-01", periods=40, freq="1h", tz="UTC", name="ts")


def flat_then(prices: list[float]) -> pd.DataFrame:
    """Bars whose open = previous close; tight ranges unless the path says otherwise."""
    close = np.asarray(prices, dtype=float)
    open_ = np.concatenate([[close[0]], close[:-1]])
    return pd.DataFrame({"open": open_, "high": np.maximum(open_, close), "low": np.minimum(open_, close),
                         "close": close, "volume": 1.0}, index=IDX[:len(close)])


@strategy("at_bars_test", "swing_trading")
def at_bars(df: pd.DataFrame, *, enter: int = 2, leave: int = 10) -> tuple[pd.Series, pd.Series]:
    i = np.arange(len(df))
    return pd.Series(i == enter, index=df.index), pd.Series(i == leave, index=df.index)


NO_STOPS = Risk(risk_per_trade=100, max_positions=1, stop_loss_pct=0, take_profit_pct=0)
FREE = BacktestConfig(initial_capital=1_000_000, fee_rate=0.0, slippage=0.0)


def test_fills_at_next_open_and_pnl_adds_up() -> None:
    prices = [100 + i for i in range(20)]
    df = flat_then(prices)
    r = run_backtest(df, at_bars(risk=NO_STOPS), FREE, timeframe="1h")
    t = r.trades.iloc[0]
    assert t["entry_time"] == IDX[3] and t["entry_price"] == df["open"].iloc[3]   # signal on bar 2's close
    assert t["exit_time"] == IDX[11] and t["exit_price"] == df["open"].iloc[11]
    assert t["size"] * t["entry_price"] == pytest.approx(1_000_000)                 # all-in (fraction 1)
    assert t["pnl"] == pytest.approx(t["size"] * (t["exit_price"] - t["entry_price"]))
    assert r.equity.iloc[-1] == pytest.approx(1_000_000 + t["pnl"])
    assert r.metrics.total_trades == 1 and r.metrics.winning_trades == 1


def test_fees_and_slippage_are_charged_per_side() -> None:
    df = flat_then([100.0] * 20)
    cfg = BacktestConfig(initial_capital=1_000_000, fee_rate=0.0025, slippage=0.001)
    r = run_backtest(df, at_bars(risk=NO_STOPS), cfg, timeframe="1h")
    t = r.trades.iloc[0]
    assert t["entry_price"] == pytest.approx(100 * 1.001) and t["exit_price"] == pytest.approx(100 * 0.999)
    entry_value = t["size"] * t["entry_price"]
    exit_value = t["size"] * t["exit_price"]
    assert t["fees"] == pytest.approx(0.0025 * (entry_value + exit_value))
    assert r.equity.iloc[-1] == pytest.approx(1_000_000 - entry_value * 0.0025 - exit_value * 0.0025
                                              - t["size"] * (t["entry_price"] - t["exit_price"]))


def test_stop_loss_and_take_profit_fill_at_their_price() -> None:
    down = flat_then([100, 100, 100, 100, 99, 97, 95, 94, 93, 92, 91, 90, 90])
    r = run_backtest(down, at_bars(risk=Risk(risk_per_trade=100, max_positions=1, stop_loss_pct=2.0,
                                             take_profit_pct=50.0)), FREE, timeframe="1h")
    t = r.trades.iloc[0]
    assert t["exit_price"] == pytest.approx(t["entry_price"] * 0.98)
    assert t["exit_time"] == IDX[5]   # bar 5 is the first whose low (97) reaches 98
    up = flat_then([100, 100, 100, 100, 101, 103, 106, 108, 108, 108, 108, 108, 108])
    r = run_backtest(up, at_bars(risk=Risk(risk_per_trade=100, max_positions=1, stop_loss_pct=10.0,
                                           take_profit_pct=4.0)), FREE, timeframe="1h")
    t = r.trades.iloc[0]
    assert t["exit_price"] == pytest.approx(t["entry_price"] * 1.04) and t["exit_time"] == IDX[6]


def test_position_size_follows_risk_per_trade() -> None:
    df = flat_then([100.0] * 20)
    risk = Risk(risk_per_trade=1.0, stop_loss_pct=4.0, max_positions=2)   # 1 % / 4 % = 25 % of equity
    r = run_backtest(df, at_bars(risk=risk), FREE, timeframe="1h")
    t = r.trades.iloc[0]
    assert t["size"] * t["entry_price"] == pytest.approx(0.25 * 1_000_000)


def _random(seed: int, n: int = 800) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.concatenate([[100.0], close[:-1]])
    idx = pd.date_range("2025-01-01", periods=n, freq="1h", tz="UTC", name="ts")
    return pd.DataFrame({"open": open_, "high": np.maximum(open_, close) * 1.002,
                         "low": np.minimum(open_, close) * 0.998, "close": close, "volume": 1.0}, index=idx)


def _max_open(trades: pd.DataFrame, index: pd.DatetimeIndex) -> int:
    held = np.zeros(len(index), dtype=int)
    for t in trades.itertuples():
        a = index.get_loc(t.entry_time)
        b = index.get_loc(t.exit_time) if not pd.isna(t.exit_time) else len(index)
        held[a:b] += 1   # held from the entry bar up to (not including) the exit bar
    return int(held.max())


def test_max_positions_across_symbols() -> None:
    data = {f"KRW-S{i}": _random(i) for i in range(4)}
    strat = EmaCross(fast=3, slow=8, risk=Risk(risk_per_trade=1, max_positions=2, stop_loss_pct=3,
                                               take_profit_pct=3))
    r = run_backtest(data, strat, timeframe="1h")
    assert set(r.trades["symbol"]) <= set(data) and len(set(r.trades["symbol"])) >= 3
    assert _max_open(r.trades, r.equity.index) <= 2
    unlimited = run_backtest(data, strat.with_risk(max_positions=4, risk_per_trade=1), timeframe="1h")
    assert _max_open(unlimited.trades, unlimited.equity.index) > 2
    assert len(unlimited.trades) > len(r.trades)


def test_metrics_agree_with_independent_computation() -> None:
    df = _random(11)
    r = run_backtest(df, EmaCross(fast=5, slow=20), timeframe="1h")
    m, eq = r.metrics, r.equity
    assert m.total_return == pytest.approx(eq.iloc[-1] / 10_000_000 - 1)
    assert m.max_drawdown == pytest.approx(float((1 - eq / eq.cummax()).max()))
    assert -m.max_drawdown == pytest.approx(drawdown(eq).min())
    closed = r.trades[r.trades["status"] == "closed"]
    assert m.total_trades == len(closed) and m.winning_trades == int((closed["pnl"] > 0).sum())
    assert m.win_rate == pytest.approx((closed["pnl"] > 0).mean())
    wins, losses = closed["pnl"][closed["pnl"] > 0], closed["pnl"][closed["pnl"] < 0]
    assert m.profit_factor == pytest.approx(wins.sum() / -losses.sum())
    assert m.largest_loss == pytest.approx(losses.min()) and m.avg_win == pytest.approx(wins.mean())
    rets = eq.pct_change().fillna(eq.iloc[0] / 10_000_000 - 1)
    assert m.sharpe_ratio == pytest.approx(rets.mean() / rets.std() * math.sqrt(365 * 24))
    monthly = r.monthly_returns()
    assert np.prod([1 + v for v in monthly.values()]) - 1 == pytest.approx(m.total_return)
    rec = r.to_record()
    assert len(rec["equity_curve"]) == len(eq) and rec["equity_curve"][-1]["equity"] == pytest.approx(eq.iloc[-1])
    assert len(rec["trade_history"]) == len(r.trades)


def test_result_is_independent_of_later_data() -> None:
    df = _random(5)
    full = run_backtest(df, EmaCross(fast=5, slow=20), timeframe="1h")
    cut = run_backtest(df.iloc[:500], EmaCross(fast=5, slow=20), timeframe="1h")
    done = full.trades[(full.trades["status"] == "closed") & (full.trades["exit_time"] < df.index[498])]
    pd.testing.assert_frame_equal(cut.trades.iloc[:len(done)].reset_index(drop=True),
                                  done.reset_index(drop=True))


def test_sweep_matches_single_runs_across_chunks() -> None:
    df = _random(2)
    grid = {"fast": [3, 5, 30], "slow": [10, 20]}
    table = run_sweep(df, EmaCross(), grid, chunk_size=2, timeframe="1h", progress=False)
    assert len(table) == 4
    assert [c for c, _ in table.attrs["skipped"]] == [{"fast": 30, "slow": 10}, {"fast": 30, "slow": 20}]
    for row in table.itertuples():
        single = run_backtest(df, EmaCross(fast=row.fast, slow=row.slow), timeframe="1h")
        assert row.total_return == pytest.approx(single.metrics.total_return, abs=1e-12)
        assert row.total_trades == single.metrics.total_trades


def test_walk_forward_windows_and_out_of_sample_runs() -> None:
    df = _random(8, n=1200)
    wf = walk_forward(df, EmaCross(), {"fast": [3, 5], "slow": [10, 20]}, timeframe="1h", n_folds=3,
                      progress=False)
    f = wf.folds
    assert len(f) == 3 and len(wf.out_of_sample) == 3
    assert (f["train_end"] < f["test_start"]).all()
    assert (f["test_end"].iloc[:-1].to_numpy() < f["train_start"].iloc[1:].to_numpy()).all()
    for row, oos in zip(f.itertuples(), wf.out_of_sample, strict=True):
        assert oos.equity.index[0] == row.test_start and oos.equity.index[-1] == row.test_end
        assert (oos.trades["entry_time"] >= row.test_start).all()
        assert oos.params == {"fast": row.fast, "slow": row.slow}
    assert wf.summary()["folds"] == 3


def test_bad_data_is_rejected_with_the_symbol_named() -> None:
    df = _random(1, 50)
    with pytest.raises(ValidationError, match="KRW-X: missing column"):
        run_backtest({"KRW-X": df.drop(columns="volume")}, EmaCross(), timeframe="1h")
    with pytest.raises(ValidationError, match="timezone-aware"):
        run_backtest(df.tz_localize(None), EmaCross(), timeframe="1h")
    with pytest.raises(ValidationError, match="duplicate timestamps"):
        run_backtest(pd.concat([df, df.iloc[[3]]]).sort_index(), EmaCross(), timeframe="1h")
    with pytest.raises(ValidationError, match="timeframe '2h'"):
        run_backtest(df, EmaCross(), timeframe="2h")


def test_symbols_with_missing_bars_are_aligned_and_not_traded_there() -> None:
    a, b = _random(1, 100), _random(2, 100).drop(_random(2, 100).index[40:60])
    md = prepare_data({"A": a, "B": b}, timeframe="1h")
    assert len(md.index) == 100 and not md.tradeable["B"].iloc[40:60].any()
    assert (md.frames["B"]["close"].iloc[40:60] == b["close"].iloc[39]).all()
