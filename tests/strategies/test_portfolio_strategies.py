"""The built-in portfolio strategies' target weights on small universes, worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.core.backtest import prepare_data
from workbench.core.backtest.portfolio import portfolio_bars
from workbench.core.strategies.portfolio import EqualWeight, InverseVolatility, MomentumRotation, PortfolioBars
from workbench.errors import StrategyError


def bars_of(closes: dict[str, list[float]]) -> PortfolioBars:
    n = max(len(c) for c in closes.values())
    idx = pd.date_range("2025-01-01", periods=n, freq="1h", tz="UTC")
    data = {}
    for s, c in closes.items():
        c = np.asarray(c, float)
        data[s] = pd.DataFrame({"open": c, "high": c, "low": c, "close": c, "volume": 1.0}, index=idx[n - len(c):])
    return portfolio_bars(prepare_data(data, timeframe="1h"))


def test_momentum_rotation_holds_the_top_positive_returns() -> None:
    bars = bars_of({"KRW-A": [100, 110, 121, 100], "KRW-B": [100, 90, 99, 120],
                    "KRW-C": [100, 105, 100, 130]})
    w = MomentumRotation(lookback=2, top=2).weights(bars)
    # bar 2: returns over 2 bars A +21 %, B -1 %, C 0 %: only A is positive -> A 1/2, rest cash
    # bar 3: A -9.09 %, B +33.3 %, C +23.8 %: B and C
    expected = [[np.nan] * 3, [np.nan] * 3, [0.5, 0.0, 0.0], [0.0, 0.5, 0.5]]
    np.testing.assert_array_equal(w.to_numpy(), expected)


def test_momentum_rotation_only_ranks_listed_symbols() -> None:
    # B is listed from bar 2: no return over 2 bars before bar 4
    bars = bars_of({"KRW-A": [100, 101, 102, 103, 104], "KRW-B": [100, 200, 400]})
    w = MomentumRotation(lookback=2, top=1).weights(bars)
    np.testing.assert_array_equal(w["KRW-B"].to_numpy(), [np.nan, np.nan, 0.0, 0.0, 1.0])


def test_inverse_volatility_weights() -> None:
    a = [100, 101, 100, 101]          # returns +1 %, -0.990 %, +1 %
    b = [100, 104, 100, 104]          # +4 %, -3.846 %, +4 %
    w = InverseVolatility(window=3).weights(bars_of({"KRW-A": a, "KRW-B": b}))
    ra, rb = np.diff(a) / a[:-1], np.diff(b) / b[:-1]
    sa, sb = np.std(ra, ddof=1), np.std(rb, ddof=1)
    assert w.iloc[:3].isna().all().all()
    np.testing.assert_allclose(w.iloc[3].to_numpy(), [(1 / sa) / (1 / sa + 1 / sb), (1 / sb) / (1 / sa + 1 / sb)],
                               rtol=1e-12)


def test_equal_weight_over_the_listed_symbols() -> None:
    bars = bars_of({"KRW-A": [1, 1, 1, 1], "KRW-B": [1, 1], "KRW-C": [1, 1, 1, 1]})
    w = EqualWeight().weights(bars)
    np.testing.assert_allclose(w.to_numpy(), [[0.5, 0, 0.5], [0.5, 0, 0.5], [1 / 3] * 3, [1 / 3] * 3])


@pytest.mark.parametrize(("cls", "params", "message"), [
    (MomentumRotation, {"top": 0}, "parameter 'top' must be a whole number >= 1"),
    (MomentumRotation, {"lookback": 2.5}, "parameter 'lookback' must be a whole number >= 1"),
    (InverseVolatility, {"window": 0}, "parameter 'window' must be a whole number >= 1"),
    (EqualWeight, {"rebalance": 0}, "parameter 'rebalance' must be one of daily, weekly, monthly, signal"),
    (EqualWeight, {"leverage": 2}, r"unknown parameter\(s\) \['leverage'\]"),
])
def test_parameters_are_checked(cls: type, params: dict[str, object], message: str) -> None:
    with pytest.raises(StrategyError, match=message):
        cls(**params)


def test_schedule_parameters_are_settable() -> None:
    assert EqualWeight(rebalance="weekly", threshold=0.0).params == {"rebalance": "weekly", "threshold": 0.0}
    assert MomentumRotation(rebalance=24).with_params(top=3).params["top"] == 3
