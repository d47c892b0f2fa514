"""The one drawdown definition (negative fractions, the initial capital the first peak), worked out by hand,
and the metric, the result, the periods table and both figures agreeing with it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.core.backtest import compute_metrics
from workbench.core.backtest.drawdown import drawdown, drawdown_periods, max_drawdown

IDX = pd.date_range("2025-01-01", periods=6, freq="1D", tz="UTC")

# equity, initial capital, the drawdown per bar, the max drawdown (positive depth), the longest spell (days)
CASES = [
    pytest.param([100.0, 110, 99, 105, 111, 90], 100.0,
                 [0.0, 0.0, 99 / 110 - 1, 105 / 110 - 1, 0.0, 90 / 111 - 1], 1 - 90 / 111, 3.0,
                 id="peak 110 on day 1 regained on day 4; a last fall from 111"),
    pytest.param([95.0, 90.0, 101.0], 100.0, [-0.05, -0.10, 0.0], 0.10, 2.0,
                 id="first bar already below the capital, regained on day 2"),
    pytest.param([90.0, 95.0, 92.0], 100.0, [-0.10, -0.05, -0.08], 0.10, 2.0,
                 id="first bar below the capital, rising but never back: one spell from bar 0 to the end"),
    pytest.param([95.0, 90.0, 101.0], None, [0.0, 90 / 95 - 1, 0.0], 1 - 90 / 95, 2.0,
                 id="no capital given: the first value is the first peak"),
    pytest.param([100.0, 101.0, 102.0], 100.0, [0.0, 0.0, 0.0], 0.0, 0.0, id="never under water"),
    pytest.param([100.0, 120.0, 108.0], 100.0, [0.0, 0.0, -0.10], 0.10, 1.0, id="only the last bar falls"),
]


@pytest.mark.parametrize(("values", "initial", "expected", "depth", "days"), CASES)
def test_drawdown_by_hand(values: list[float], initial: float | None, expected: list[float], depth: float,
                          days: float) -> None:
    equity = pd.Series(values, index=IDX[:len(values)])
    dd = drawdown(equity, initial)
    np.testing.assert_allclose(dd.to_numpy(), expected, rtol=0, atol=1e-15)
    assert dd.name == "drawdown" and dd.index.equals(equity.index) and (dd <= 0).all()
    stamps = equity.index.as_unit("ns").asi8
    got_depth, got_longest = max_drawdown(equity.to_numpy(), stamps, initial)
    assert got_depth == pytest.approx(depth, abs=1e-15) and got_longest / 86_400e9 == pytest.approx(days)
    periods = drawdown_periods(equity, initial=initial)
    if depth == 0:
        assert periods.empty
    else:
        assert periods.loc[0, "depth"] == pytest.approx(-depth) and periods["days"].max() == pytest.approx(days)


@pytest.mark.parametrize(("values", "initial", "expected", "depth", "days"),
                         [c for c in CASES if c.values[1] is not None])
def test_the_metric_and_the_figures_use_the_same_drawdown(values: list[float], initial: float,
                                                          expected: list[float], depth: float, days: float) -> None:
    from workbench.present.report_figures import drawdown_figure
    from workbench.present.result_figures import underwater_figure

    equity = pd.Series(values, index=IDX[:len(values)])
    trades = pd.DataFrame({"pnl": [], "fees": [], "status": [], "exit_time": pd.to_datetime([], utc=True)})
    m = compute_metrics(equity, trades, initial_capital=initial)
    assert m.max_drawdown == pytest.approx(depth, abs=1e-15) and m.max_drawdown_duration == pytest.approx(days)
    want = np.array(expected) * 100.0
    np.testing.assert_allclose(np.asarray(underwater_figure(equity, initial=initial).data[0].y, dtype=float), want,
                               atol=1e-12)
    np.testing.assert_allclose(np.asarray(drawdown_figure(equity, initial=initial).data[0].y, dtype=float), want,
                               atol=1e-12)
