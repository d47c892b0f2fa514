from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.core.backtest import run_backtest
from workbench.core.strategies import (
    BUILTIN_STRATEGIES,
    STRATEGY_TYPES,
    EmaCross,
    Risk,
    RsiReversion,
    Strategy,
    crossed_above,
    crossed_below,
    strategy,
)
from workbench.core.strategies.base import registered
from workbench.errors import StrategyError


def ohlcv(n: int = 600, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 1000 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.concatenate([[1000.0], close[:-1]])
    idx = pd.date_range("2025-01-01", periods=n, freq="1h", tz="UTC", name="ts")
    return pd.DataFrame({"open": open_, "high": np.maximum(open_, close) * 1.003,
                         "low": np.minimum(open_, close) * 0.997, "close": close,
                         "volume": rng.uniform(1, 10, n)}, index=idx)


SMALL = {"GoldenCross": {"fast": 10, "slow": 30}, "MacdTrend": {"trend": 20}}


def test_one_builtin_per_type_at_least() -> None:
    assert {cls.strategy_type for cls in BUILTIN_STRATEGIES.values()} == set(STRATEGY_TYPES)


@pytest.mark.parametrize("name", list(BUILTIN_STRATEGIES))
def test_signals_never_use_future_bars(name: str) -> None:
    df = ohlcv()
    strat = BUILTIN_STRATEGIES[name](**SMALL.get(name, {}))
    full = strat.signals(df)
    assert full["entry"].any(), f"{name} never enters on the test data"
    assert full.dtypes.tolist() == [bool, bool]
    for t in (100, 250, 400, 599):
        # change everything from bar t on: signals up to and including bar t must not move, because
        # a signal acted on at bar t was decided on bar t-1's close
        future = df.copy()
        future.iloc[t:, :4] *= 1.3
        pd.testing.assert_frame_equal(strat.signals(future).iloc[:t + 1], full.iloc[:t + 1])
        pd.testing.assert_frame_equal(strat.signals(df.iloc[:t + 1]), full.iloc[:t + 1])


def test_signals_are_shifted_one_bar() -> None:
    df = ohlcv()
    strat = EmaCross()
    entries, _ = strat.generate(df)
    np.testing.assert_array_equal(strat.signals(df)["entry"].to_numpy()[1:], entries.to_numpy()[:-1])
    assert not strat.signals(df)["entry"].iloc[0]


def test_parameters_are_checked() -> None:
    with pytest.raises(StrategyError, match=r"unknown parameter\(s\) \['fats'\]"):
        EmaCross(fats=3)
    with pytest.raises(StrategyError, match="fast .* must be < slow"):
        EmaCross(fast=30, slow=20)
    with pytest.raises(StrategyError, match="'period' must be a whole number >= 1"):
        RsiReversion(period=0)
    with pytest.raises(StrategyError, match="oversold < exit_level"):
        RsiReversion(oversold=60, exit_level=50)
    assert EmaCross(fast=5).with_params(slow=50).params == {"fast": 5, "slow": 50}


def test_risk_rules_and_position_size() -> None:
    assert Risk(risk_per_trade=1.0, stop_loss_pct=5.0, max_positions=2).position_fraction == pytest.approx(0.2)
    assert Risk(risk_per_trade=2.0, stop_loss_pct=2.0, max_positions=4).position_fraction == pytest.approx(0.25)
    assert Risk(stop_loss_pct=0, max_positions=1).position_fraction == 1.0
    for bad in ({"risk_per_trade": 0}, {"max_positions": 0}, {"stop_loss_pct": 100}, {"take_profit_pct": -1}):
        with pytest.raises(StrategyError):
            Risk(**bad)


def test_user_strategy_in_a_few_lines() -> None:
    @strategy("breakout_test", "day_trading", description="close above the 24-bar high")
    def breakout(df: pd.DataFrame, *, lookback: int = 24) -> tuple[pd.Series, pd.Series]:
        high = df["high"].rolling(lookback).max().shift(1)
        return df["close"] > high, df["close"] < df["close"].rolling(lookback).mean()

    s = breakout(lookback=12)
    assert isinstance(s, Strategy) and s.params == {"lookback": 12} and s.strategy_type == "day_trading"
    assert registered(s.class_path) is breakout
    result = run_backtest(ohlcv(), s, timeframe="1h")
    assert result.metrics.total_trades > 0
    with pytest.raises(StrategyError, match="strategy_type must be one of"):
        strategy("x", "hodl")  # type: ignore[arg-type]


def test_generate_must_return_series_on_the_index() -> None:
    @strategy("broken_test", "scalping")
    def broken(df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        return df["close"].iloc[:-1] > 0, df["close"] < 0

    with pytest.raises(StrategyError, match="must return two Series on the frame's index"):
        broken().signals(ohlcv())


def test_cross_helpers() -> None:
    a = pd.Series([1.0, 2.0, 3.0, 2.0, 1.0])
    assert crossed_above(a, 1.5).tolist() == [False, True, False, False, False]
    assert crossed_below(a, 1.5).tolist() == [False, False, False, False, True]
