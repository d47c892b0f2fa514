"""Portfolio strategies in sweeps, walk-forward tests and Optuna's fold evaluation (pure core).

Expected values: each sweep row is the single backtest of its parameters; walk-forward test windows tile
the bars after the first training window; the parameters a fold picks are those whose in-sample backtest
(run on its own) has the best Sharpe ratio; the first out-of-sample trade is the momentum pick worked
out by hand from the closes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.core.backtest import BacktestConfig, prepare_data, run_backtest, run_sweep, walk_forward
from workbench.core.backtest.search import evaluate_folds, fold_windows
from workbench.core.strategies.portfolio import MomentumRotation

SYMBOLS = ("KRW-A", "KRW-B", "KRW-C")
GRID = {"lookback": [3, 8], "top": [1, 2]}


def universe(n: int = 240, seed: int = 3) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2025-01-01", periods=n, freq="1h", tz="UTC", name="ts")
    out = {}
    for j, s in enumerate(SYMBOLS):
        close = 1000.0 * (j + 1) * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
        open_ = np.r_[close[0], close[:-1]] * np.exp(rng.normal(0.0, 0.002, n))
        frame = pd.DataFrame({"open": open_, "high": np.maximum(open_, close) * 1.001,
                              "low": np.minimum(open_, close) * 0.999, "close": close, "volume": 10.0}, index=idx)
        if s == "KRW-C":
            frame = frame.iloc[30:]        # listed later: point in time in every window
        out[s] = frame
    return out


def strategy() -> MomentumRotation:
    return MomentumRotation(lookback=3, top=1, rebalance=4)


def test_a_sweep_row_is_the_backtest_of_its_parameters() -> None:
    data = universe()
    config = BacktestConfig(slippage=0.0005)
    kept = {}
    table = run_sweep(data, strategy(), GRID, config, progress=False, chunk_size=3,
                      on_result=lambda r: kept.__setitem__((r.params["lookback"], r.params["top"]), r))
    assert [(p["lookback"], p["top"]) for p in table.attrs["params"]] == [(3, 1), (3, 2), (8, 1), (8, 2)]
    for row, params in zip(table.itertuples(index=False), table.attrs["params"], strict=True):
        alone = run_backtest(data, strategy().with_params(**params), config)
        swept = kept[(params["lookback"], params["top"])]
        assert swept.equity.to_numpy().tolist() == alone.equity.to_numpy().tolist()
        pd.testing.assert_frame_equal(swept.orders, alone.orders)
        assert row.total_return == alone.metrics.total_return and row.total_trades == alone.metrics.total_trades
    assert table["total_return"].nunique() == 4         # the parameters matter


def test_walk_forward_folds_tile_the_history_and_pick_the_in_sample_best() -> None:
    data = universe()
    md = prepare_data(data, timeframe="1h")
    config = BacktestConfig()
    wf = walk_forward(data, strategy(), GRID, config, n_folds=3, train_bars=60, progress=False)
    # test windows [60, 120), [120, 180), [180, 240): every bar after the first 60 exactly once
    starts = [int(md.index.get_loc(t)) for t in wf.folds["test_start"]]
    ends = [int(md.index.get_loc(t)) + 1 for t in wf.folds["test_end"]]
    assert starts == [60, 120, 180] and ends == [120, 180, 240]
    assert wf.equity.index.equals(md.index[60:])
    # stitched: each fold starts with the capital the last one ended with
    growth = np.prod([r.equity.iloc[-1] / config.initial_capital for r in wf.out_of_sample])
    assert wf.equity.iloc[-1] == pytest.approx(config.initial_capital * growth, rel=1e-12)
    for fold, oos in zip(wf.folds.itertuples(index=False), wf.out_of_sample, strict=True):
        lo, hi = starts[fold.fold] - 60, starts[fold.fold]
        window = {s: f[(f.index >= md.index[lo]) & (f.index < md.index[hi])] for s, f in data.items()}
        sharpe = {(lb, top): run_backtest(window, strategy().with_params(lookback=lb, top=top),
                                          config).metrics.sharpe_ratio
                  for lb in GRID["lookback"] for top in GRID["top"]}
        best = max(sharpe, key=lambda k: -np.inf if np.isnan(sharpe[k]) else sharpe[k])
        assert (fold.lookback, fold.top) == best
        assert oos.trades["exit_reason"].isin(["rebalance", "end"]).all()   # closed at the window's end
        assert not (oos.trades["status"] == "open").any()


def test_the_first_out_of_sample_trade_is_the_momentum_pick_by_hand() -> None:
    data = universe()
    md = prepare_data(data, timeframe="1h")
    wf = walk_forward(data, MomentumRotation(lookback=3, top=1, rebalance=4), {"lookback": [3]}, n_folds=3,
                      train_bars=60, progress=False, overfitting=False)
    first = wf.out_of_sample[1].orders.iloc[0]            # fold 1 tests from bar 120
    assert first["time"] == md.index[120] and first["side"] == "buy"
    close = md.panel("close")
    mom = {s: close[s].iloc[119] / close[s].iloc[116] - 1 for s in SYMBOLS}
    assert max(mom.values()) > 0 and first["symbol"] == max(mom, key=mom.__getitem__)


def test_optuna_folds_evaluate_a_portfolio_strategy() -> None:
    md = prepare_data(universe(), timeframe="1h")
    config = BacktestConfig()
    windows = fold_windows(200, 2)
    scores = list(evaluate_folds(md, strategy(), config, windows, "total_return"))
    for score, (lo, hi) in zip(scores, windows, strict=True):
        window = {s: f[(f.index >= md.index[lo]) & (f.index < md.index[hi])] for s, f in universe().items()}
        assert score.value == run_backtest(window, strategy(), config).metrics.total_return
    assert scores[-1].running == pytest.approx((scores[0].value + scores[1].value) / 2, rel=1e-15)
