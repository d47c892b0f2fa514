"""Tearsheet parts of the strategy_backtest report: rolling ratios against empyrical, the benchmark column
and the return distribution, on hand-built curves; the walk-forward summary pinned whole."""

from __future__ import annotations

import empyrical as ep
import numpy as np
import pandas as pd

from workbench.core.backtest import BacktestConfig, WalkForwardResult, compute_metrics, prepare_data, run_backtest
from workbench.core.backtest.result import BacktestResult
from workbench.core.backtest.walkforward import stitch
from workbench.core.strategies import EmaCross
from workbench.present import metrics_with_benchmark, return_distribution_figure, rolling_ratios
from workbench.present.walkforward import walk_forward_summary

CAPITAL = 1_000_000.0


def _prices(seed: int, days: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0.001, 0.03, days)))
    o = np.r_[100.0, close[:-1]]
    idx = pd.date_range("2025-01-01", periods=days, freq="1D", tz="UTC", name="ts")
    return pd.DataFrame({"open": o, "high": np.maximum(o, close), "low": np.minimum(o, close), "close": close,
                         "volume": 1.0}, index=idx)


def test_rolling_ratios_equal_empyrical() -> None:
    df = _prices(1, 90)
    equity = CAPITAL * df["close"] / 100
    daily = pd.Series(equity.to_numpy() / np.r_[CAPITAL, equity.to_numpy()[:-1]] - 1, index=df.index)
    rf = 1.02 ** (1 / 365) - 1
    got = rolling_ratios(equity, CAPITAL, days=20, risk_free_rate=0.02)
    want_sharpe = ep.roll_sharpe_ratio(daily, window=20, risk_free=rf, annualization=365)
    want_vol = ep.roll_annual_volatility(daily, window=20, annualization=365)
    assert got["sharpe_ratio"].iloc[:19].isna().all() and got["volatility"].iloc[:19].isna().all()
    np.testing.assert_allclose(got["sharpe_ratio"].iloc[19:].to_numpy(), np.asarray(want_sharpe), rtol=1e-9)
    np.testing.assert_allclose(got["volatility"].iloc[19:].to_numpy(), np.asarray(want_vol), rtol=1e-9)


def test_benchmark_column_holds_the_benchmarks_own_metrics() -> None:
    df = _prices(2, 120)
    r = run_backtest(df, EmaCross(fast=3, slow=10), BacktestConfig(initial_capital=CAPITAL, risk_free_rate=0.03),
                     timeframe="1d")
    table = metrics_with_benchmark(r)
    column = "benchmark (equal-weight)"
    # buy & hold from the first close, by hand
    hold = df["close"] / df["close"].iloc[0]
    assert table.loc["Total return", column] == f"{(hold.iloc[-1] - 1) * 100:+.2f}%"
    assert table.loc["Max drawdown", column] == f"{((hold / hold.cummax()).min() - 1) * 100:.2f}%"  # a loss: negative
    d = hold / hold.shift(1).fillna(1.0) - 1
    sharpe = ep.sharpe_ratio(d, risk_free=1.03 ** (1 / 365) - 1, annualization=365)
    assert table.loc["Sharpe ratio", column] == f"{sharpe:,.2f}"
    assert table.loc["Trades", column] == "–" and table.loc["Trades", "strategy"] == f"{r.metrics.total_trades:,d}"
    none = run_backtest(df, EmaCross(fast=3, slow=10), BacktestConfig(benchmark="none"), timeframe="1d")
    assert set(metrics_with_benchmark(none)["benchmark (none)"]) == {"–"}


def test_return_distribution_has_both_curves_daily_returns() -> None:
    df = _prices(3, 60)
    r = run_backtest(df, EmaCross(fast=3, slow=10), BacktestConfig(initial_capital=CAPITAL), timeframe="1d")
    fig = return_distribution_figure(r)
    assert len(fig.data) == 2
    hold = df["close"] / df["close"].iloc[0]
    np.testing.assert_allclose(fig.data[1].x, ((hold / hold.shift(1).fillna(1.0)) - 1).to_numpy() * 100,
                               rtol=1e-9, atol=1e-12)


def test_walk_forward_summary_pinned() -> None:
    idx = pd.date_range("2025-01-01", periods=8, freq="1D", tz="UTC", name="ts")
    close = pd.Series([1.0, 1.0, 1.0, 1.1, 1.2, 1.0, 1.1, 1.3], index=idx)
    md = prepare_data(pd.DataFrame({"open": close, "high": close, "low": close, "close": close, "volume": 1.0}),
                      timeframe="1d")
    config = BacktestConfig(initial_capital=CAPITAL)
    parts = []
    for values, span in (([1_000_000.0, 1_100_000.0, 1_200_000.0], idx[2:5]),
                         ([1_000_000.0, 900_000.0, 1_050_000.0], idx[5:8])):
        equity = pd.Series(values, index=span)
        trades = pd.DataFrame({"size": [1.0], "fees": [0.0], "pnl": [values[-1] - CAPITAL], "status": ["closed"],
                               "exit_time": [span[-1]]})
        parts.append(BacktestResult("s", "swing_trading", "x.S", {}, {}, config, ["ASSET"], "1d", equity, None,
                                    trades, compute_metrics(equity, trades, initial_capital=CAPITAL, exposure=1.0),
                                    0.0, md))
    folds = pd.DataFrame({"fold": [0, 1], "train_bars": [2, 2], "is_sharpe_ratio": [1.0, 2.0],
                          "oos_sharpe_ratio": [0.5, 1.5]})
    wf = WalkForwardResult(folds, parts, "sharpe_ratio", stitch(parts, md, config, [{}, {}]), "rolling")
    # the stitched curve 1.0, 1.1, 1.2 | 1.2, 1.08, 1.26 M on Jan 3 .. Jan 8: its daily returns by hand
    daily = np.array([0.0, 0.1, 1.2 / 1.1 - 1, 0.0, -0.1, 1.26 / 1.08 - 1])
    sharpe = daily.mean() / daily.std(ddof=1) * np.sqrt(365)
    assert walk_forward_summary(wf).values.tolist() == [
        ["mode", "rolling: each fold trains on the same number of bars just before its test window"],
        ["folds", "2"],
        ["first training window", "2 bars"],
        ["tested (out of sample)", "6 bars, every bar after the first training window"],
        ["mean in-sample Sharpe", "1.50"],
        ["mean out-of-sample Sharpe", "1.00"],
        ["stitched return", "+26.00%"],
        ["stitched CAGR", f"{(1.26 ** (365 / 6) - 1) * 100:+,.2f}%"],
        ["stitched Sharpe", f"{sharpe:,.2f}"],
        ["stitched max drawdown", "-10.00%"],
        ["stitched longest drawdown", "2.0 days"],
        ["stitched trades", "2"],
        ["stitched benchmark return", "+30.00%"],          # buy & hold from the Jan 3 close, 1.0 -> 1.3
        ["stitched deflated Sharpe ratio", "–"],
        ["overfitting (grid)", "not computed"],
    ]
