from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.core.backtest import BacktestConfig, prepare_data, run_backtest, run_sweep, walk_forward
from workbench.core.strategies import EmaCross, Risk, strategy
from workbench.errors import ValidationError

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


@strategy("windows_test", "swing_trading")
def windows(df: pd.DataFrame, *, fast: int = 3, slow: int = 10) -> tuple[pd.Series, pd.Series]:
    """Uses its parameters as rolling windows: a float window is a pandas error."""
    f, s = df.close.rolling(fast).mean(), df.close.rolling(slow).mean()
    return f > s, f < s


def test_walk_forward_keeps_parameter_types_and_ranks_by_each_metrics_direction() -> None:
    df = _random(8, n=1200)
    grid = {"fast": [3, 5], "slow": [10, 20]}
    wf = walk_forward(df, windows(), grid, timeframe="1h", n_folds=2, train_bars=600, progress=False,
                      metric="max_drawdown", overfitting=False)
    for oos in wf.out_of_sample:
        assert all(type(v) is int for v in oos.params.values())
    # max_drawdown: the lowest wins; check against the in-sample sweep of fold 0 by hand
    md = prepare_data(df, timeframe="1h")
    split = 600                      # the first training window: bars 0 .. 599
    table = run_sweep(df.iloc[:split], windows(), grid, timeframe="1h", progress=False)
    lowest = table.loc[table["max_drawdown"].idxmin()]
    assert (wf.folds["fast"].iloc[0], wf.folds["slow"].iloc[0]) == (lowest["fast"], lowest["slow"])
    assert wf.folds["is_max_drawdown"].iloc[0] == pytest.approx(table["max_drawdown"].min())
    assert md.index[split] == wf.folds["test_start"].iloc[0]


@pytest.mark.parametrize("metric", ["beta", "total_trades", "no_such_metric", "fast"])
def test_walk_forward_accepts_only_rankable_metric_names(metric: str) -> None:
    with pytest.raises(ValidationError, match="cannot rank parameters"):
        walk_forward(_random(8, n=400), EmaCross(), {"fast": [3], "slow": [10]}, timeframe="1h",
                     n_folds=2, metric=metric, progress=False)


def test_sweep_computes_each_indicator_once_per_distinct_value(monkeypatch: pytest.MonkeyPatch) -> None:
    import workbench.core.indicators._kernels as kernels

    calls: list[int] = []
    real = kernels.ema_kernel

    def counting(x, period):  # type: ignore[no-untyped-def]
        calls.append(int(period))
        return real(x, period)

    monkeypatch.setattr("workbench.core.indicators.trend.ema_kernel", counting)
    table = run_sweep(_random(4, n=300), EmaCross(), {"fast": [3, 5, 8], "slow": [13, 21, 34]}, chunk_size=2,
                      timeframe="1h", progress=False)
    assert len(table) == 9
    assert sorted(calls) == [3, 5, 8, 13, 21, 34]      # 6 distinct periods, not 18 EMA computations


def test_sweep_rejects_unknown_grid_parameters() -> None:
    with pytest.raises(ValidationError, match=r"\['fats'\] not parameter"):
        run_sweep(_random(1, 100), EmaCross(), {"fats": [3]}, timeframe="1h", progress=False)


def test_bad_data_is_rejected_with_the_symbol_named() -> None:
    df = _random(1, 50)
    with pytest.raises(ValidationError, match="KRW-X: missing column"):
        run_backtest({"KRW-X": df.drop(columns="volume")}, EmaCross(), timeframe="1h")
    with pytest.raises(ValidationError, match="timezone-aware"):
        run_backtest(df.tz_localize(None), EmaCross(), timeframe="1h")
    with pytest.raises(ValidationError, match="duplicate timestamps"):
        run_backtest(pd.concat([df, df.iloc[[3]]]).sort_index(), EmaCross(), timeframe="1h")
    bad = df.copy()
    bad.iloc[7, bad.columns.get_loc("close")] = np.inf
    with pytest.raises(ValidationError, match="KRW-Y: missing, infinite or non-positive prices"):
        run_backtest({"KRW-Y": bad}, EmaCross(), timeframe="1h")
    bad = df.copy()
    bad.iloc[7, bad.columns.get_loc("high")] = bad["low"].iloc[7] * 0.5
    with pytest.raises(ValidationError, match="high below open/low/close"):
        run_backtest(bad, EmaCross(), timeframe="1h")
    with pytest.raises(ValidationError, match="timeframe '2h'"):
        run_backtest(df, EmaCross(), timeframe="2h")


def test_symbols_with_missing_bars_are_aligned_and_not_traded_there() -> None:
    a, b = _random(1, 100), _random(2, 100).drop(_random(2, 100).index[40:60])
    md = prepare_data({"A": a, "B": b}, timeframe="1h")
    assert len(md.index) == 100 and not md.tradeable["B"].iloc[40:60].any()
    assert (md.frames["B"]["close"].iloc[40:60] == b["close"].iloc[39]).all()
