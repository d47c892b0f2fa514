"""Benchmark choice (equal-weight, one symbol, none) and the risk-free rate of BacktestConfig, with the
benchmark's equity worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.core.backtest import BacktestConfig, run_backtest
from workbench.core.strategies import EmaCross
from workbench.errors import ValidationError

CAPITAL = 1_000_000.0


def _frame(close: list[float], start: str = "2025-01-01") -> pd.DataFrame:
    c = np.asarray(close, dtype=float)
    o = np.r_[c[0], c[:-1]]
    idx = pd.date_range(start, periods=len(c), freq="1D", tz="UTC", name="ts")
    return pd.DataFrame({"open": o, "high": np.maximum(o, c), "low": np.minimum(o, c), "close": c,
                         "volume": 1.0}, index=idx)


A = _frame([100, 110, 121, 110, 132, 120, 150, 140, 160, 150, 170, 180, 175, 190, 200])
B = _frame([50, 50, 40, 45, 50, 55, 60, 50, 40, 45, 50, 55, 60, 65, 70])
STRATEGY = EmaCross(fast=2, slow=4)


def test_one_traded_symbol_as_benchmark() -> None:
    r = run_backtest({"KRW-A": A, "KRW-B": B}, STRATEGY, BacktestConfig(initial_capital=CAPITAL, benchmark="a"),
                     timeframe="1d")
    # KRW-A bought at its first close (100) with the whole capital: 1 M x close / 100
    assert list(r.benchmark) == [CAPITAL * c / 100 for c in A["close"]]
    assert r.metrics.benchmark_return == pytest.approx(1.0, rel=1e-12)          # 100 -> 200
    assert r.config.benchmark == "KRW-A"


def test_an_untraded_symbol_as_benchmark_from_its_close_prices() -> None:
    # the benchmark's close has a missing day (Jan 3): the Jan 2 close is kept there
    close = B["close"].drop(B.index[2])
    r = run_backtest(A, STRATEGY, BacktestConfig(initial_capital=CAPITAL, benchmark="KRW-BTC"), timeframe="1d",
                     symbol="KRW-A", benchmark_close=close)
    expected = [CAPITAL * c / 50 for c in [50, 50, 50, 45, 50, 55, 60, 50, 40, 45, 50, 55, 60, 65, 70]]
    np.testing.assert_allclose(r.benchmark.to_numpy(), expected, rtol=1e-15)
    assert r.metrics.benchmark_return == pytest.approx(0.4, rel=1e-12)
    with pytest.raises(ValidationError, match="benchmark KRW-BTC: not among the traded symbols"):
        run_backtest(A, STRATEGY, BacktestConfig(benchmark="KRW-BTC"), timeframe="1d", symbol="KRW-A")


def test_equal_weight_and_no_benchmark() -> None:
    both = {"KRW-A": A, "KRW-B": B}
    r = run_backtest(both, STRATEGY, BacktestConfig(initial_capital=CAPITAL), timeframe="1d")
    expected = [CAPITAL / 2 * a / 100 + CAPITAL / 2 * b / 50 for a, b in zip(A["close"], B["close"], strict=True)]
    np.testing.assert_allclose(r.benchmark.to_numpy(), expected, rtol=1e-15)
    none = run_backtest(both, STRATEGY, BacktestConfig(initial_capital=CAPITAL, benchmark="None"), timeframe="1d")
    assert none.benchmark is None and none.config.benchmark == "none"
    assert np.isnan(none.metrics.benchmark_return) and np.isnan(none.metrics.alpha) and np.isnan(none.metrics.beta)
    assert none.equity.equals(r.equity)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"risk_free_rate": 3.5}, r"risk_free_rate must be an annual fraction in \[-0.05, 0.5\], e.g. 0.035 for 3.5 %"),
    ({"benchmark": "USD-BTC"}, "only KRW markets"),
    ({"benchmark": 5}, "benchmark must be 'equal-weight', 'none' or a symbol"),
])
def test_config_checks_the_benchmark_and_the_rate(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        BacktestConfig(**kwargs)  # type: ignore[arg-type]
