"""Metrics against an outside implementation (empyrical-reloaded) and hand calculations.

The daily returns handed to empyrical are built here with pandas (last equity of each UTC day, the first
day against the initial capital), not with the code under test.
"""

from __future__ import annotations

import empyrical as ep
import numpy as np
import pandas as pd
import pytest

from workbench.core.backtest import METRIC_INFO, BacktestConfig, Metrics, compute_metrics, daily_returns, run_backtest
from workbench.core.strategies import EmaCross, Risk

CAPITAL = 10_000_000.0


def _random(seed: int, n: int, freq: str = "1h") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0.0002, 0.01, n)))
    open_ = np.r_[100.0, close[:-1]]
    idx = pd.date_range("2025-01-01", periods=n, freq=freq, tz="UTC", name="ts")
    return pd.DataFrame({"open": open_, "high": np.maximum(open_, close) * 1.003,
                         "low": np.minimum(open_, close) * 0.997, "close": close, "volume": 1.0}, index=idx)


def _daily(equity: pd.Series) -> pd.Series:
    last = equity.resample("1D").last().dropna()
    return last / pd.concat([pd.Series([CAPITAL]), pd.Series(last.to_numpy()[:-1])]).to_numpy() - 1


@pytest.fixture(scope="module")
def run():  # type: ignore[no-untyped-def]
    df = _random(3, 24 * 200)
    return run_backtest(df, EmaCross(fast=8, slow=34, risk=Risk(risk_per_trade=2, stop_loss_pct=3,
                                                                   take_profit_pct=6, max_positions=1)),
                        BacktestConfig(initial_capital=CAPITAL), timeframe="1h"), df


def test_return_ratios_equal_empyrical(run) -> None:  # type: ignore[no-untyped-def]
    r, df = run
    m = r.metrics
    d = _daily(r.equity)
    assert len(d) == 200
    assert m.sharpe_ratio == pytest.approx(ep.sharpe_ratio(d, annualization=365), rel=1e-9)
    assert m.sortino_ratio == pytest.approx(ep.sortino_ratio(d, annualization=365), rel=1e-9)
    assert m.volatility == pytest.approx(ep.annual_volatility(d, annualization=365), rel=1e-9)
    assert m.annual_return == pytest.approx(ep.cagr(d, annualization=365), rel=1e-9)
    assert m.var_95 == pytest.approx(ep.value_at_risk(d, cutoff=0.05), rel=1e-9)
    assert m.cvar_95 == pytest.approx(ep.conditional_value_at_risk(d, cutoff=0.05), rel=1e-9)
    assert m.best_day == pytest.approx(d.max(), rel=1e-12) and m.worst_day == pytest.approx(d.min(), rel=1e-12)
    bar_returns = r.equity.pct_change().fillna(r.equity.iloc[0] / CAPITAL - 1)
    assert m.max_drawdown == pytest.approx(-ep.max_drawdown(bar_returns), rel=1e-9)
    assert m.calmar_ratio == pytest.approx(ep.cagr(d, annualization=365) / -ep.max_drawdown(bar_returns),
                                           rel=1e-9)
    assert m.total_return == pytest.approx(ep.cum_returns_final(d), rel=1e-9)


def test_benchmark_alpha_beta_equal_empyrical(run) -> None:  # type: ignore[no-untyped-def]
    r, df = run
    hold = CAPITAL * df["close"] / df["close"].iloc[0]          # buy and hold from the first close
    np.testing.assert_allclose(r.benchmark.to_numpy(), hold.to_numpy(), rtol=1e-12)
    alpha, beta = ep.alpha_beta(_daily(r.equity), _daily(hold), annualization=365)
    assert r.metrics.beta == pytest.approx(beta, rel=1e-9)
    assert r.metrics.alpha == pytest.approx(alpha, rel=1e-9)
    assert r.metrics.benchmark_return == pytest.approx(df["close"].iloc[-1] / df["close"].iloc[0] - 1)
    assert r.metrics.excess_return == pytest.approx(r.metrics.total_return - r.metrics.benchmark_return)


def test_trade_statistics_by_hand(run) -> None:  # type: ignore[no-untyped-def]
    r, _ = run
    m, t = r.metrics, r.trades
    pnl = t["pnl"].to_numpy()
    assert m.total_trades == len(t) > 10
    assert m.winning_trades == (pnl > 0).sum() and m.losing_trades == (pnl < 0).sum()
    assert m.win_rate == pytest.approx((pnl > 0).sum() / len(pnl))
    assert m.profit_factor == pytest.approx(pnl[pnl > 0].sum() / -pnl[pnl < 0].sum())
    assert m.avg_loss == pytest.approx(pnl[pnl < 0].mean()) and m.largest_win == pytest.approx(pnl.max())
    assert m.total_pnl == pytest.approx(pnl.sum())     # open trades marked at the last close
    held = np.zeros(len(r.equity), dtype=bool)
    idx = r.equity.index
    for row in t.itertuples():
        a = idx.get_loc(row.entry_time)
        b = len(idx) - 1 if pd.isna(row.exit_time) else idx.get_loc(row.exit_time)
        held[a:b + 1] = True                     # in the market from the entry bar to the exit bar
    assert m.exposure == pytest.approx(held.mean())


def test_streaks_and_drawdown_duration_by_hand() -> None:
    idx = pd.date_range("2025-01-01", periods=6, freq="1D", tz="UTC")
    equity = pd.Series([100.0, 110, 99, 105, 111, 90], index=idx)
    trades = pd.DataFrame({"pnl": [5.0, 7, -1, -2, -3, 4], "fees": 0.0, "status": "closed",
                           "exit_time": idx})
    m = compute_metrics(equity, trades, initial_capital=100.0)
    assert (m.max_win_streak, m.max_loss_streak) == (2, 3)
    # peak 110 on day 1, back above on day 4: 3 days; the drawdown from 111 (day 4) lasts to the end: 1 day
    assert m.max_drawdown_duration == pytest.approx(3.0)
    assert m.max_drawdown == pytest.approx(1 - 90 / 111)


def test_undefined_ratios_are_nan_and_stored_as_null() -> None:
    idx = pd.date_range("2025-01-01", periods=48, freq="1h", tz="UTC")
    flat = pd.Series(100.0, index=idx)
    wins_only = pd.DataFrame({"pnl": [1.0, 2.0], "fees": 0.0, "status": "closed", "exit_time": idx[:2]})
    m = compute_metrics(flat, wins_only, initial_capital=100.0)
    assert np.isnan(m.sharpe_ratio) and np.isnan(m.sortino_ratio) and m.profit_factor == np.inf


def test_sharpe_does_not_depend_on_the_bar_timeframe() -> None:
    equity = _random(9, 24 * 60)["close"] * 1e5
    hourly = compute_metrics(equity, pd.DataFrame(columns=["pnl", "fees", "status", "exit_time"]),
                             initial_capital=1e7)
    four_hourly = compute_metrics(equity.resample("4h").last(),
                                  pd.DataFrame(columns=["pnl", "fees", "status", "exit_time"]), initial_capital=1e7)
    assert hourly.sharpe_ratio == pytest.approx(four_hourly.sharpe_ratio, rel=1e-12)
    assert hourly.sortino_ratio == pytest.approx(four_hourly.sortino_ratio, rel=1e-12)


def test_metrics_read_like_a_mapping() -> None:
    idx = pd.date_range("2025-01-01", periods=3, freq="1D", tz="UTC")
    m = compute_metrics(pd.Series([100.0, 101, 102], index=idx),
                        pd.DataFrame(columns=["pnl", "fees", "status", "exit_time"]), initial_capital=100.0)
    assert isinstance(m, Metrics) and list(m) == list(METRIC_INFO) and len(m) == len(METRIC_INFO)
    assert m["total_return"] == m.total_return == pytest.approx(0.02)
    assert dict(m) == m.to_dict() and m.to_series()["total_return"] == pytest.approx(0.02)
    with pytest.raises(KeyError, match="not a metric"):
        m["sharpe"]


def _weekdays_equity() -> pd.Series:
    """Two weeks of weekday-only daily equity (Mon 2025-01-06 .. Fri 2025-01-17), +1 % per weekday."""
    days = pd.bdate_range("2025-01-06", "2025-01-17", tz="UTC")
    return pd.Series(100.0 * 1.01 ** np.arange(1, 11), index=days)


def test_weekday_only_data_gives_calendar_cagr_and_zero_return_weekends() -> None:
    m = compute_metrics(_weekdays_equity(), pd.DataFrame(columns=["pnl", "fees", "status", "exit_time"]),
                        initial_capital=100.0)
    # by hand: 12 calendar days (Jan 6 .. Jan 17), growth 1.01^10
    assert m.annual_return == pytest.approx(1.01 ** (10 * 365 / 12) - 1, rel=1e-12)
    # the calendar-day grid: five 1 % days, a 0 % weekend, five 1 % days
    grid = pd.Series([0.01] * 5 + [0.0, 0.0] + [0.01] * 5,
                     index=pd.date_range("2025-01-06", periods=12, freq="1D", tz="UTC"))
    assert m.annual_return == pytest.approx(ep.cagr(grid, annualization=365), rel=1e-12)
    assert m.sharpe_ratio == pytest.approx(ep.sharpe_ratio(grid, annualization=365), rel=1e-12)
    assert m.volatility == pytest.approx(ep.annual_volatility(grid, annualization=365), rel=1e-12)
    assert m.worst_day == 0.0


def test_a_gap_of_missing_days_counts_as_calendar_time() -> None:
    idx = pd.DatetimeIndex(["2025-03-01 10:00", "2025-03-01 23:00", "2025-03-02 12:00", "2025-03-06 01:00"],
                           tz="UTC")
    equity = pd.Series([101.0, 102.0, 100.0, 110.0], index=idx)     # an outage from Mar 3 to Mar 5
    daily = daily_returns(equity, 100.0)
    assert list(daily.index.strftime("%m-%d")) == ["03-01", "03-02", "03-03", "03-04", "03-05", "03-06"]
    np.testing.assert_allclose(daily.to_numpy(), [0.02, 100 / 102 - 1, 0.0, 0.0, 0.0, 0.1], rtol=1e-12)
    m = compute_metrics(equity, pd.DataFrame(columns=["pnl", "fees", "status", "exit_time"]), initial_capital=100.0)
    assert m.annual_return == pytest.approx(1.1 ** (365 / 6) - 1, rel=1e-12)


def test_risk_free_rate_in_sharpe_sortino_and_alpha_equals_empyrical(run) -> None:  # type: ignore[no-untyped-def]
    r, df = run
    rf_daily = 1.035 ** (1 / 365) - 1          # 3.5 % a year, compounded daily
    m = compute_metrics(r.equity, r.trades, initial_capital=CAPITAL, benchmark=r.benchmark,
                        risk_free_rate=0.035)
    d = _daily(r.equity)
    assert m.sharpe_ratio == pytest.approx(ep.sharpe_ratio(d, risk_free=rf_daily, annualization=365), rel=1e-9)
    assert m.sortino_ratio == pytest.approx(ep.sortino_ratio(d, required_return=rf_daily, annualization=365),
                                            rel=1e-9)
    hold = CAPITAL * df["close"] / df["close"].iloc[0]
    alpha, beta = ep.alpha_beta(d, _daily(hold), risk_free=rf_daily, annualization=365)
    assert (m.alpha, m.beta) == (pytest.approx(alpha, rel=1e-9), pytest.approx(beta, rel=1e-9))
    assert m.sharpe_ratio < r.metrics.sharpe_ratio and m.volatility == r.metrics.volatility


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_daily_figures_do_not_depend_on_the_index_unit(unit: str) -> None:
    # 6-hourly bars over three UTC days, the first day starting at 06:00; closes worked out by hand:
    # day ends 1000 -> 1100 (day 1: 3 bars), 990 (day 2), 1089 (day 3, 2 bars)
    from workbench.core.backtest.stats import daily_returns

    idx = pd.DatetimeIndex(["2025-01-01 06:00", "2025-01-01 12:00", "2025-01-01 18:00", "2025-01-02 00:00",
                            "2025-01-02 06:00", "2025-01-02 12:00", "2025-01-02 18:00", "2025-01-03 00:00",
                            "2025-01-03 12:00"], tz="UTC").as_unit(unit)
    equity = pd.Series([1000.0, 1200.0, 1100.0, 900.0, 950.0, 1000.0, 990.0, 1000.0, 1089.0], index=idx)
    daily = daily_returns(equity, 1000.0)
    assert list(daily.index.strftime("%Y-%m-%d")) == ["2025-01-01", "2025-01-02", "2025-01-03"]
    np.testing.assert_allclose(daily.to_numpy(), [0.1, -0.1, 0.1], rtol=1e-12)
    m = compute_metrics(equity, pd.DataFrame({"pnl": [1.0, 2.0, -1.0, 3.0], "fees": 0.0, "status": "closed",
                                              "exit_time": idx[[8, 2, 5, 4]]}), initial_capital=1000.0)
    assert m.max_drawdown == pytest.approx(1 - 900 / 1200) and m.best_day == pytest.approx(0.1)
    assert m.max_drawdown_duration == pytest.approx(2.0)          # 12:00 on the 1st to the last bar (no new peak)
    assert (m.max_win_streak, m.max_loss_streak) == (2, 1)        # in exit order: +2, +3, -1, +1


def test_metrics_from_the_records_equal_those_of_the_trade_list() -> None:
    """The engine computes the trade statistics from its records without building the trade list (built on
    first use); they equal the statistics of the list itself, bit for bit, with several symbols exiting on
    the same bars (entry order and exit order differ) and a trade left open."""
    data = {f"KRW-S{j}": _random(10 + j, 24 * 120) for j in range(4)}
    risk = Risk(risk_per_trade=2, stop_loss_pct=2, take_profit_pct=3, max_positions=4)
    r = run_backtest(data, EmaCross(fast=3, slow=8, risk=risk), BacktestConfig(initial_capital=CAPITAL),
                     timeframe="1h")
    t = r.trades
    assert len(t) > 50 and (t["status"] == "open").any()
    exit_bar = t["exit_time"].dropna()
    assert exit_bar.duplicated().any()           # several trades closed on one bar
    again = compute_metrics(r.equity, t, initial_capital=CAPITAL, benchmark=r.benchmark,
                            exposure=r.metrics.exposure)
    assert again.to_dict().keys() == r.metrics.to_dict().keys()
    for key, value in again.to_dict().items():
        mine = r.metrics[key]
        assert mine == value or (np.isnan(mine) and np.isnan(value)), key
