"""Parity with backtesting.py's limit and stop orders (an outside implementation) on the data it ships:
GOOG (daily) and EURUSD (hourly). A long-only SMA cross places a buy limit below (or a buy stop above)
the signal bar's close; the order waits until it fills, a new entry signal replaces it, or an exit
signal cancels it; the exit is a market order at the next open. Same trades (bars, prices, sizes) and the
same equity curve to 1e-9 relative, with and without commission and stops.

Stop-loss / take-profit on a position entered by a limit or stop order are live from the next bar in
both engines (backtesting.py: set in ``next()`` on the entry bar, relative to the fill price, as ours).
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
from backtesting.test import EURUSD, GOOG, SMA

from workbench.core.backtest import BacktestConfig, run_backtest
from workbench.core.indicators import sma
from workbench.core.strategies import Orders, Risk, crossed_above, crossed_below, strategy


class SmaCrossOrdersBt(BtStrategy):  # type: ignore[misc]
    n1 = 10
    n2 = 20
    kind = "limit"
    offset = 0.01
    sl = 0.0
    tp = 0.0

    def init(self) -> None:
        self.sma1 = self.I(SMA, self.data.Close, self.n1)
        self.sma2 = self.I(SMA, self.data.Close, self.n2)

    def _cancel_waiting(self) -> None:
        for order in list(self.orders):
            if not order.is_contingent:
                order.cancel()

    def next(self) -> None:
        i = len(self.data) - 1
        for trade in self.trades:          # stops relative to the fill price, live from the next bar
            if trade.entry_bar == i and trade.sl is None and trade.tp is None:
                if self.sl:
                    trade.sl = trade.entry_price * (1 - self.sl)
                if self.tp:
                    trade.tp = trade.entry_price * (1 + self.tp)
        if crossover(self.sma1, self.sma2) and not self.position:
            self._cancel_waiting()
            close = self.data.Close[-1]
            if self.kind == "limit":
                self.buy(size=0.9999999, limit=close * (1 - self.offset))
            else:
                self.buy(size=0.9999999, stop=close * (1 + self.offset))
        elif crossover(self.sma2, self.sma1):
            self._cancel_waiting()
            if self.position:
                self.position.close()


@strategy("sma_cross_orders", "swing_trading")
def sma_cross_orders(df: pd.DataFrame, *, fast: int = 10, slow: int = 20, kind: str = "limit",
                     offset: float = 0.01) -> Orders:
    f, s = sma(df["close"], fast), sma(df["close"], slow)
    price = df["close"] * (1 - offset) if kind == "limit" else df["close"] * (1 + offset)
    return Orders(crossed_above(f, s), crossed_below(f, s), **{kind: price})


def _utc(df: pd.DataFrame) -> pd.DataFrame:
    out = df.rename(columns=str.lower)
    out.index = pd.DatetimeIndex(out.index).tz_localize("UTC").rename("ts")
    return out


DATA = {"GOOG": (GOOG, "1d"), "EURUSD": (EURUSD, "1h")}


def _run_both(data: str, kind: str, offset: float, fee: float, sl: float, tp: float) -> tuple[Any, Any]:
    frame, tf = DATA[data]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = Backtest(frame, SmaCrossOrdersBt, cash=10_000, commission=fee, finalize_trades=False)
        stats = bt.run(kind=kind, offset=offset, sl=sl, tp=tp)
    # the same fraction of equity as backtesting.py's size=0.9999999 (whole units, rounded down)
    risk = Risk(max_positions=1, stop_loss_pct=sl * 100, take_profit_pct=tp * 100, sizing="fraction",
                position_pct=99.99999)
    ours = run_backtest(_utc(frame), sma_cross_orders(kind=kind, offset=offset, risk=risk),
                        BacktestConfig(initial_capital=10_000, fee_rate=fee, slippage=0.0, size_step=1),
                        timeframe=tf, symbol=data)
    return stats, ours


CASES = [(d, k, off, fee, sl, tp) for d in DATA for k, off in (("limit", 0.01), ("stop", 0.005))
         for fee, sl, tp in ((0.0, 0.0, 0.0), (0.002, 0.0, 0.0), (0.002, 0.03, 0.05))]


@pytest.mark.parametrize(("data", "kind", "offset", "fee", "sl", "tp"), CASES)
def test_limit_and_stop_orders_match_backtesting_py(data: str, kind: str, offset: float, fee: float, sl: float,
                                                    tp: float) -> None:
    frame, _ = DATA[data]
    if data == "EURUSD":     # a move of 1 % is rare in an hour: orders and stops nearer the price
        offset, sl, tp = offset / 10, sl / 10, tp / 10
    stats, ours = _run_both(data, kind, offset, fee, sl, tp)
    theirs = stats._trades
    closed = ours.trades[ours.trades["status"] == "closed"].reset_index(drop=True)
    assert len(closed) == len(theirs) > 15
    idx = ours.equity.index
    assert list(idx.get_indexer(closed["entry_time"])) == list(theirs["EntryBar"])
    assert list(idx.get_indexer(closed["exit_time"])) == list(theirs["ExitBar"])
    np.testing.assert_array_equal(closed["size"], theirs["Size"])
    np.testing.assert_allclose(closed["entry_price"], theirs["EntryPrice"], rtol=1e-12)
    np.testing.assert_allclose(closed["exit_price"], theirs["ExitPrice"], rtol=1e-12)
    np.testing.assert_allclose(closed["pnl"], theirs["PnL"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ours.equity.to_numpy(), stats._equity_curve["Equity"].to_numpy(), rtol=1e-9)
    # the orders matter: some entries fill away from the open (within the bar at the order's price)
    opens = frame["Open"].to_numpy()[list(idx.get_indexer(closed["entry_time"]))]
    assert (closed["entry_price"].to_numpy() != opens).sum() >= 5
    if sl:
        assert {"stop_loss", "take_profit"} <= set(closed["exit_reason"])
