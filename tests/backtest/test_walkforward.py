"""Walk-forward: window boundaries (exact bar positions, worked out by hand), tiling of the out-of-sample
windows, the stitched curve on contiguous bars with the capital carried over, and the overfitting figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.core.backtest import (
    BacktestConfig,
    FoldWindow,
    compute_metrics,
    prepare_data,
    run_backtest,
    walk_forward,
)
from workbench.core.backtest.result import BacktestResult
from workbench.core.backtest.walkforward import stitch, walk_forward_windows
from workbench.core.strategies import EmaCross
from workbench.errors import ValidationError

CAPITAL = 1_000_000.0


def _random(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0.0002, 0.01, n)))
    open_ = np.r_[100.0, close[:-1]]
    idx = pd.date_range("2025-01-01", periods=n, freq="1h", tz="UTC", name="ts")
    return pd.DataFrame({"open": open_, "high": np.maximum(open_, close) * 1.003,
                         "low": np.minimum(open_, close) * 0.997, "close": close, "volume": 1.0}, index=idx)


def _bounds(windows: list[FoldWindow]) -> list[tuple[int, int, int]]:
    return [(w.train_start, w.test_start, w.test_end) for w in windows]


def test_train_fraction_windows_rolling_and_anchored() -> None:
    # n = 1200, k = 3, f = 0.7: S = 1200 // (3 + 0.7 / 0.3) = 1200 // 5.33 = 225, T = 1200 - 3 * 225 = 525
    assert _bounds(walk_forward_windows(1200, n_folds=3, train_fraction=0.7)) == [
        (0, 525, 750), (225, 750, 975), (450, 975, 1200)]
    assert _bounds(walk_forward_windows(1200, mode="anchored", n_folds=3, train_fraction=0.7)) == [
        (0, 525, 750), (0, 750, 975), (0, 975, 1200)]


def test_default_windows_are_four_folds_of_a_70_percent_rolling_window() -> None:
    # n = 1000: S = 1000 // (4 + 7/3) = 1000 // 6.33 = 157, T = 1000 - 628 = 372
    assert _bounds(walk_forward_windows(1000)) == [(0, 372, 529), (157, 529, 686), (314, 686, 843),
                                                   (471, 843, 1000)]


def test_train_and_test_bars_fix_the_folds_and_the_last_window_takes_the_remainder() -> None:
    # n = 200, T = 100, S = 30: k = 100 // 30 = 3; the last window is bars 160 .. 199 (40 bars)
    assert _bounds(walk_forward_windows(200, train_bars=100, test_bars=30)) == [
        (0, 100, 130), (30, 130, 160), (60, 160, 200)]
    assert _bounds(walk_forward_windows(200, mode="anchored", train_bars=100, test_bars=30)) == [
        (0, 100, 130), (0, 130, 160), (0, 160, 200)]


def test_folds_with_train_bars_or_with_test_bars() -> None:
    # k = 4, T = 100: S = (200 - 100) // 4 = 25
    assert _bounds(walk_forward_windows(200, n_folds=4, train_bars=100)) == [
        (0, 100, 125), (25, 125, 150), (50, 150, 175), (75, 175, 200)]
    # k = 4, S = 20: T = 200 - 80 = 120
    assert _bounds(walk_forward_windows(200, n_folds=4, test_bars=20)) == [
        (0, 120, 140), (20, 140, 160), (40, 160, 180), (60, 180, 200)]
    # only T: four folds by default, (203 - 100) // 4 = 25, the last window 3 bars longer
    assert _bounds(walk_forward_windows(203, train_bars=100))[-1] == (75, 175, 203)


@pytest.mark.parametrize(("n", "kwargs"), [(200, {}), (997, {"n_folds": 7}), (500, {"mode": "anchored"}),
                                            (321, {"train_bars": 50, "test_bars": 17})])
def test_test_windows_tile_the_history_after_the_first_training_window(n: int, kwargs: dict[str, int]) -> None:
    windows = walk_forward_windows(n, **kwargs)  # type: ignore[arg-type]
    tested = np.concatenate([np.arange(w.test_start, w.test_end) for w in windows])
    assert list(tested) == list(range(windows[0].test_start, n))    # every bar once, in order, no holes
    first_train = windows[0].test_start - windows[0].train_start
    for w in windows:
        assert w.test_start - w.train_start == (first_train if kwargs.get("mode") != "anchored" else w.test_start)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_folds": 2, "train_bars": 50, "test_bars": 10}, "at most two"),
    ({"train_bars": 50, "train_fraction": 0.5}, "not both"),
    ({"train_bars": 190, "test_bars": 20}, "exceed"),
    ({"n_folds": 150}, "too few"),
    ({"mode": "expanding"}, "mode must be one of rolling, anchored"),
    ({"n_folds": 0}, "n_folds must be an integer >= 1"),
    ({"train_fraction": 0.99}, r"train_fraction must be in \[0.1, 0.95\]"),
])
def test_window_arguments_are_checked(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        walk_forward_windows(200, **kwargs)  # type: ignore[arg-type]


def _result(md: object, values: list[float], index: pd.DatetimeIndex) -> BacktestResult:
    equity = pd.Series(values, index=index, name="equity")
    trades = pd.DataFrame({"size": [1.0], "fees": [10.0], "pnl": [values[-1] - CAPITAL], "status": ["closed"],
                           "exit_time": [index[-1]]})
    config = BacktestConfig(initial_capital=CAPITAL, benchmark="none")
    return BacktestResult("s", "swing_trading", "x.S", {}, {}, config, ["ASSET"], "1d", equity, None, trades,
                          compute_metrics(equity, trades, initial_capital=CAPITAL, exposure=0.5), 0.0,
                          md)  # type: ignore[arg-type]


def test_stitched_equity_carries_the_capital_on_contiguous_bars() -> None:
    idx = pd.date_range("2025-01-01", periods=8, freq="1D", tz="UTC", name="ts")
    md = prepare_data(pd.DataFrame({"open": 1.0, "high": 1.0, "low": 1.0, "close": 1.0, "volume": 1.0}, index=idx),
                      timeframe="1d")
    a = _result(md, [1_000_000.0, 1_100_000.0, 1_200_000.0], idx[2:5])     # fold 0: +20 %
    b = _result(md, [1_000_000.0, 900_000.0, 1_050_000.0], idx[5:8])       # fold 1: +5 %
    s = stitch([a, b], md, BacktestConfig(initial_capital=CAPITAL, benchmark="none"), [{}, {}])
    # fold 1 starts with the 1.2 M fold 0 ended with: 1.2 M x (1.0, 0.9, 1.05)
    assert list(s.equity) == [1_000_000.0, 1_100_000.0, 1_200_000.0, 1_200_000.0, 1_080_000.0, 1_260_000.0]
    assert list(s.equity.index) == list(idx[2:8])
    assert list(s.trades["fees"]) == [10.0, 12.0] and list(s.trades["pnl"]) == [200_000.0, 60_000.0]
    assert s.metrics.total_return == pytest.approx(0.26, rel=1e-12)
    assert s.metrics.max_drawdown == pytest.approx(0.1, rel=1e-12)              # 1.2 M -> 1.08 M
    assert s.metrics.max_drawdown_duration == pytest.approx(2.0)   # last at the peak Jan 6 -> new high Jan 8
    assert s.benchmark is None and np.isnan(s.metrics.benchmark_return)
    with pytest.raises(ValidationError, match="overlap"):
        stitch([a, a], md, BacktestConfig(initial_capital=CAPITAL), [{}, {}])


def test_walk_forward_tests_every_bar_after_the_first_training_window() -> None:
    df = _random(8, 1200)
    grid = {"fast": [3, 5], "slow": [10, 20]}
    config = BacktestConfig(initial_capital=CAPITAL)
    wf = walk_forward(df, EmaCross(), grid, config, timeframe="1h", n_folds=3, progress=False)
    f = wf.folds
    assert list(f["test_start"]) == [df.index[525], df.index[750], df.index[975]]
    assert list(f["test_end"]) == [df.index[749], df.index[974], df.index[1199]]
    assert list(f["train_start"]) == [df.index[0], df.index[225], df.index[450]]
    assert list(f["train_bars"]) == [525] * 3 and list(f["test_bars"]) == [225] * 3
    assert wf.equity.index.equals(df.index[525:])                   # contiguous: no hole, no overlap
    for row, oos in zip(f.itertuples(), wf.out_of_sample, strict=True):
        assert oos.equity.index[0] == row.test_start and oos.equity.index[-1] == row.test_end
        assert (oos.trades["entry_time"] >= row.test_start).all()
        assert (oos.trades["status"] == "closed").all()            # closed at the window's last bar
        # the same run by hand: its training bars as warm-up, closing at the end
        alone = run_backtest(df.iloc[df.index.get_loc(row.train_start):df.index.get_loc(row.test_end) + 1],
                             EmaCross(fast=row.fast, slow=row.slow), config, timeframe="1h",
                             trade_start=row.test_start, close_at_end=True)
        assert alone.equity.equals(oos.equity)
    growth = np.prod([r.equity.iloc[-1] / CAPITAL for r in wf.out_of_sample]) - 1
    assert wf.metrics.total_return == pytest.approx(growth, rel=1e-12)
    assert wf.metrics.total_trades == sum(len(r.trades) for r in wf.out_of_sample)
    hold = CAPITAL * df["close"].iloc[525:] / df["close"].iloc[525]      # one buy & hold over the tested bars
    np.testing.assert_allclose(wf.stitched.benchmark.to_numpy(), hold.to_numpy(), rtol=1e-12)
    assert wf.summary()["folds"] == 3 and wf.summary()["tested_bars"] == 675


def test_anchored_folds_train_on_every_earlier_bar() -> None:
    df = _random(4, 600)
    wf = walk_forward(df, EmaCross(), {"fast": [3, 5], "slow": [10, 20]}, timeframe="1h", mode="anchored",
                      train_bars=300, test_bars=100, progress=False, overfitting=False)
    assert list(wf.folds["train_start"]) == [df.index[0]] * 3
    assert list(wf.folds["train_bars"]) == [300, 400, 500]
    assert wf.equity.index.equals(df.index[300:]) and wf.mode == "anchored"
    assert wf.overfitting is None and np.isnan(wf.deflated_sharpe_ratio)


def test_overfitting_figures_over_the_grid_on_the_tested_bars() -> None:
    df = _random(8, 24 * 90)
    grid = {"fast": [3, 5, 8], "slow": [13, 21]}
    wf = walk_forward(df, EmaCross(), grid, timeframe="1h", n_folds=3, progress=False)
    o = wf.overfitting
    assert o is not None and o.n_trials == 6
    # the trials' daily returns cover the tested calendar days: the stitched curve's first to last day
    days = (wf.equity.index[-1].normalize() - wf.equity.index[0].normalize()).days + 1
    assert o.n_obs == days
    assert 0.0 <= o.pbo <= 1.0 and 0.0 <= o.deflated_sharpe_ratio <= 1.0
    assert 0.0 <= wf.deflated_sharpe_ratio <= 1.0
