"""``result.to_vectorbt()``: vectorbt (an outside implementation) replays the run's fills and must arrive
at the same value, returns and trade records, to 1e-9: single symbol with stops and fees, several
symbols sharing one cash account, a trade left open, and a portfolio strategy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from backtesting.test import GOOG

from workbench.core.backtest import BacktestConfig, run_backtest
from workbench.core.strategies import EmaCross, GoldenCross, Risk
from workbench.core.strategies.portfolio import MomentumRotation
from workbench.ingest.sample import generate_sample_candles

# vectorbt 1.2 renames columns in place, which pandas 3.1 deprecates
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning",
                                        "ignore:The inplace keyword:Warning")


def _goog() -> pd.DataFrame:
    df = GOOG.rename(columns=str.lower)
    df.index = pd.DatetimeIndex(df.index).tz_localize("UTC").rename("ts")
    return df


def _sample(days: int = 20) -> dict[str, pd.DataFrame]:
    rows = generate_sample_candles(days=days, timeframe="1h")
    out = {}
    for symbol, g in rows.groupby("symbol"):
        f = g.rename(columns={"open_price": "open", "high_price": "high", "low_price": "low",
                              "close_price": "close"})
        f.index = pd.DatetimeIndex(f["timestamp"]).rename("ts")
        out[str(symbol)] = f[["open", "high", "low", "close", "volume"]].astype(float)
    return out


def _check(result) -> None:  # type: ignore[no-untyped-def]
    pf = result.to_vectorbt()
    value = pf.value()
    np.testing.assert_allclose(value.to_numpy(), result.equity.to_numpy(), rtol=1e-9, atol=0)
    np.testing.assert_allclose(pf.returns().to_numpy()[1:], result.equity.pct_change().to_numpy()[1:],
                               rtol=1e-9, atol=1e-12)
    trades = pf.trades.records_readable
    ours = result.trades.sort_values(["entry_time", "symbol"]).reset_index(drop=True)
    theirs = trades.sort_values(["Entry Timestamp", "Column"]).reset_index(drop=True)
    assert len(theirs) == len(ours)
    assert list(theirs["Column"]) == list(ours["symbol"])
    assert list(theirs["Entry Timestamp"]) == list(ours["entry_time"])
    for mine, other in (("size", "Size"), ("entry_price", "Avg Entry Price"), ("fees", None), ("pnl", "PnL")):
        expected = ours[mine].to_numpy(dtype=float)
        got = (theirs["Entry Fees"] + theirs["Exit Fees"]).to_numpy() if other is None else theirs[other].to_numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)
    closed = (ours["status"] == "closed").to_numpy()
    assert list(theirs["Status"][closed]) == ["Closed"] * int(closed.sum())
    assert list(theirs["Exit Timestamp"][closed]) == list(ours["exit_time"][closed])
    np.testing.assert_allclose(theirs["Avg Exit Price"].to_numpy()[closed], ours["exit_price"].to_numpy()[closed],
                               rtol=1e-12)


def test_single_symbol_with_stops_and_fees() -> None:
    strat = GoldenCross(fast=10, slow=30, risk=Risk(stop_loss_pct=4, take_profit_pct=8, risk_per_trade=100,
                                                     max_positions=1))
    result = run_backtest(_goog(), strat, BacktestConfig(fee_rate=0.002, slippage=0.001), timeframe="1d",
                          symbol="GOOG")
    assert len(result.trades) > 5 and set(result.trades["exit_reason"]) >= {"stop_loss"}
    _check(result)


def test_several_symbols_share_one_cash_account_and_an_open_trade() -> None:
    result = run_backtest(_sample(), EmaCross(fast=5, slow=13, risk=Risk(max_positions=2)),
                          BacktestConfig(fee_rate=0.0025, slippage=0.0005), timeframe="1h")
    assert result.trades["symbol"].nunique() == 3
    # an exit and a new entry of one symbol at the same open: two fills in one bar
    assert result.trades["entry_time"].isin(result.trades["exit_time"]).any()
    _check(result)


def test_open_trade_has_no_exit_fill() -> None:
    df = _goog().iloc[:300]   # the last cross of this window leaves a trade open
    result = run_backtest(df, GoldenCross(fast=5, slow=20), BacktestConfig(fee_rate=0.001), timeframe="1d",
                          symbol="GOOG")
    assert list(result.trades["status"])[-1] == "open"
    _check(result)


def test_portfolio_strategy() -> None:
    result = run_backtest(_sample(40), MomentumRotation(lookback=48, top=2, rebalance="daily"),
                          BacktestConfig(fee_rate=0.0025, slippage=0.0005), timeframe="1h")
    assert len(result.orders) > 10
    pf = result.to_vectorbt()
    np.testing.assert_allclose(pf.value().to_numpy(), result.equity.to_numpy(), rtol=1e-9, atol=0)


def test_volume_capped_orders_filled_in_parts() -> None:
    result = run_backtest(_sample(), EmaCross(fast=5, slow=13, risk=Risk(max_positions=1)),
                          BacktestConfig(fee_rate=0.0025, volume_share=0.02), timeframe="1h")
    parts = result.fills.groupby(["symbol", "side"]).size()
    assert len(result.fills) > 2 * len(result.trades) and parts.sum() == len(result.fills)
    pf = result.to_vectorbt()
    np.testing.assert_allclose(pf.value().to_numpy(), result.equity.to_numpy(), rtol=1e-9, atol=0)


def test_a_result_without_its_fill_list_is_rebuilt_from_its_trades() -> None:
    import dataclasses

    result = run_backtest(_sample(), EmaCross(fast=5, slow=13, risk=Risk(max_positions=2)),
                          BacktestConfig(fee_rate=0.0025, slippage=0.0005), timeframe="1h")
    _check(dataclasses.replace(result, fill_list=None))
