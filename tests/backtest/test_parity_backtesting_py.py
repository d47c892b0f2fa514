"""Parity with backtesting.py (an outside implementation) on its own GOOG daily data: a long-only SMA cross,
with and without stop-loss/take-profit and with commission, whole units. Same trades (bars, prices, sizes)
and the same equity curve to 1e-9 relative.

Definitional differences, by design and documented in the README: backtesting.py applies ``spread`` once,
at entry, where our ``slippage`` moves every fill; its stops are absolute prices (here set from the next
open, which is our fill price); its statistics leave an open trade out (ours mark it at the last close); its buy & hold starts after the
indicators' warm-up (ours at the first bar of the window).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from backtesting import Backtest
from backtesting import Strategy as BtStrategy
from backtesting.lib import crossover
from backtesting.test import GOOG, SMA

from workbench.core.backtest import BacktestConfig, run_backtest
from workbench.core.strategies import GoldenCross, Risk


class SmaCrossBt(BtStrategy):  # type: ignore[misc]
    n1 = 10
    n2 = 20
    sl = 0.0
    tp = 0.0

    def init(self) -> None:
        self.sma1 = self.I(SMA, self.data.Close, self.n1)
        self.sma2 = self.I(SMA, self.data.Close, self.n2)
        opens = np.asarray(self.data.Open, dtype=float)
        self.next_open = np.r_[opens[1:], np.nan]    # the fill price of an order placed now

    def next(self) -> None:
        i = len(self.data) - 1
        if crossover(self.sma1, self.sma2) and not self.position:
            px = self.next_open[i]
            if np.isnan(px):
                return
            self.buy(size=0.9999999, sl=px * (1 - self.sl) if self.sl else None,
                     tp=px * (1 + self.tp) if self.tp else None)
        elif crossover(self.sma2, self.sma1) and self.position:
            self.position.close()


def _goog_utc() -> pd.DataFrame:
    df = GOOG.rename(columns=str.lower)
    df.index = pd.DatetimeIndex(df.index).tz_localize("UTC").rename("ts")
    return df


def _run_both(sl: float, tp: float, fee: float) -> tuple[Any, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = Backtest(GOOG, SmaCrossBt, cash=10_000, commission=fee, finalize_trades=False)
        stats = bt.run(sl=sl, tp=tp)
    risk = Risk(risk_per_trade=100, max_positions=1, stop_loss_pct=sl * 100, take_profit_pct=tp * 100)
    ours = run_backtest(_goog_utc(), GoldenCross(fast=10, slow=20, risk=risk),
                        BacktestConfig(initial_capital=10_000, fee_rate=fee, slippage=0.0, size_step=1),
                        timeframe="1d", symbol="GOOG")
    return stats, ours


@pytest.mark.parametrize(("sl", "tp", "fee"), [(0.0, 0.0, 0.0), (0.0, 0.0, 0.002), (0.03, 0.0, 0.002),
                                               (0.04, 0.06, 0.002), (0.05, 0.08, 0.0)])
def test_same_trades_and_equity_as_backtesting_py(sl: float, tp: float, fee: float) -> None:
    stats, ours = _run_both(sl, tp, fee)
    theirs = stats._trades
    closed = ours.trades[ours.trades["status"] == "closed"].reset_index(drop=True)
    assert len(closed) == len(theirs) > 20
    assert (ours.trades["status"] == "open").sum() <= 1
    idx = ours.equity.index
    assert list(idx.get_indexer(closed["entry_time"])) == list(theirs["EntryBar"])
    assert list(idx.get_indexer(closed["exit_time"])) == list(theirs["ExitBar"])
    np.testing.assert_allclose(closed["size"], theirs["Size"], rtol=0, atol=0)
    np.testing.assert_allclose(closed["entry_price"], theirs["EntryPrice"], rtol=1e-12)
    np.testing.assert_allclose(closed["exit_price"], theirs["ExitPrice"], rtol=1e-12)
    np.testing.assert_allclose(closed["pnl"], theirs["PnL"], rtol=1e-9)
    np.testing.assert_allclose(ours.equity.to_numpy(), stats._equity_curve["Equity"].to_numpy(), rtol=1e-9)
    assert ours.metrics.total_return * 100 == pytest.approx(stats["Return [%]"], rel=1e-9)
    close = GOOG["Close"].to_numpy()   # buy and hold from the first bar (backtesting.py: after the warm-up)
    assert ours.metrics.benchmark_return == pytest.approx(close[-1] / close[0] - 1, rel=1e-12)
    if ours.metrics.open_trades == 0:   # backtesting.py's exposure counts closed trades only
        assert ours.metrics.exposure * 100 == pytest.approx(stats["Exposure Time [%]"], rel=1e-12)
    assert ours.metrics.max_drawdown * 100 == pytest.approx(-stats["Max. Drawdown [%]"], rel=1e-9)
    assert ours.metrics.max_drawdown_duration == pytest.approx(stats["Max. Drawdown Duration"].days)


def test_stops_make_a_difference_in_this_data() -> None:
    """The SL/TP cases above exercise stops (the parity is not only the signal exits)."""
    _, ours = _run_both(0.04, 0.06, 0.002)
    reasons = set(ours.trades["exit_reason"])
    assert {"stop_loss", "take_profit", "signal"} <= reasons


def test_cagr_is_calendar_time_and_close_to_backtesting_py_annual_return() -> None:
    """GOOG is weekday-only (2,148 rows over 3,117 calendar days). Our CAGR is the growth over calendar
    time; backtesting.py's "Return (Ann.) [%]" compounds the geometric mean return of the days with data
    over 252 trading days a year (the data has 251.6 a year), so it is a little higher. A CAGR over rows
    (2,148 / 365 "years") would be 34.7 %."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = Backtest(GOOG, SmaCrossBt, cash=10_000, commission=0.0, finalize_trades=False).run(n1=10, n2=30)
    ours = run_backtest(_goog_utc(), GoldenCross(fast=10, slow=30, risk=Risk(risk_per_trade=100, max_positions=1,
                                                                             stop_loss_pct=0, take_profit_pct=0)),
                        BacktestConfig(initial_capital=10_000, fee_rate=0.0, slippage=0.0, size_step=1),
                        timeframe="1d", symbol="GOOG")
    growth = stats["Equity Final [$]"] / 10_000
    days = (GOOG.index[-1] - GOOG.index[0]).days + 1
    assert days == 3117
    assert ours.metrics.annual_return == pytest.approx(growth ** (365 / days) - 1, rel=1e-9)
    assert ours.metrics.annual_return == pytest.approx(0.2279, abs=5e-5)
    assert stats["Return (Ann.) [%]"] == pytest.approx(22.85, abs=5e-3)
