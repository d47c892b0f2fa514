"""Walk-forward tests: parameters chosen in-sample, tested out of sample, the out-of-sample runs stitched.

The out-of-sample (test) windows tile the history after the first training window: fold k tests bars
``[T + k*S, T + (k+1)*S)`` (the last fold to the last bar), so every bar after the first ``T`` is tested
exactly once. A fold trains on the ``T`` bars before its test window (``rolling``) or on every bar before
it (``anchored``, an expanding window). Each out-of-sample run sees its training bars only as indicator
warm-up and closes its positions at its last bar, so the next fold starts from the cash it ends with; the
stitched curve chains them on contiguous bars and its metrics are those of that one curve.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from workbench.core.backtest.config import BacktestConfig
from workbench.core.backtest.data import MarketData, prepare_data
from workbench.core.backtest.engine import run_backtest
from workbench.core.backtest.overfitting import OverfittingReport, overfitting_report, probabilistic_sharpe_ratio
from workbench.core.backtest.result import BacktestResult, benchmark_curve
from workbench.core.backtest.stats import METRIC_INFO, Metrics, compute_metrics, daily_rate, daily_returns
from workbench.core.backtest.sweep import combo_key, run_sweep
from workbench.core.strategies.base import Strategy
from workbench.errors import ValidationError

__all__ = ["DEFAULT_FOLDS", "MODES", "RANKABLE_METRICS", "FoldWindow", "WalkForwardResult", "best_row",
           "stitch", "walk_forward", "walk_forward_fold", "walk_forward_overfitting", "walk_forward_windows"]

#: metrics a walk-forward (or any ranking) can choose parameters by: those with a direction
RANKABLE_METRICS: tuple[str, ...] = tuple(k for k, v in METRIC_INFO.items() if v.higher_is_better is not None)
Mode = Literal["rolling", "anchored"]
MODES: Final = ("rolling", "anchored")
DEFAULT_FOLDS: Final = 4
DEFAULT_TRAIN_FRACTION: Final = 0.7
MIN_TRAIN_BARS: Final = 10
MIN_TEST_BARS: Final = 2


def check_metric(metric: str) -> bool:
    """``metric``'s direction (True: higher is better); a ValidationError for any other name."""
    info = METRIC_INFO.get(metric)
    if info is None or info.higher_is_better is None:
        raise ValidationError(f"metric {metric!r} cannot rank parameters; choose one of "
                              f"{', '.join(RANKABLE_METRICS)}")
    return info.higher_is_better


def best_row(table: pd.DataFrame, metric: str) -> int:
    """Position of the best row of a sweep table by ``metric`` in its direction (NaN ranks last; ties:
    the first row)."""
    higher = check_metric(metric)
    values = table[metric].to_numpy(dtype="float64")
    score = np.where(np.isnan(values), -np.inf, values if higher else -values)
    return int(np.argmax(score))


@dataclass(frozen=True, slots=True)
class FoldWindow:
    """One fold's bar positions, half-open: trains on ``[train_start, test_start)``, tests
    ``[test_start, test_end)``."""

    fold: int
    train_start: int
    test_start: int
    test_end: int


def _count(name: str, value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValidationError(f"{name} must be an integer >= 1 (got {value!r})")
    return int(value)


def walk_forward_windows(n_bars: int, *, mode: str = "rolling", n_folds: int | None = None,
                         train_bars: int | None = None, test_bars: int | None = None,
                         train_fraction: float | None = None) -> list[FoldWindow]:
    """The folds of a walk-forward over ``n_bars`` bars.

    The first training window has ``T`` bars; the test windows of ``S`` bars tile the bars after it
    (the last one also takes the remainder, so it ends at the last bar). Any two of ``n_folds`` (k),
    ``train_bars`` (T) and ``test_bars`` (S) fix the third (k = (n - T) // S, S = (n - T) // k, or
    T = n - k*S); with one of T and S, k is ``DEFAULT_FOLDS`` unless given; with neither, ``train_fraction``
    (default 0.7) is T / (T + S), the training share of each rolling window: S = n // (k + f / (1 - f)),
    T = n - k*S. ``rolling``: each fold trains on the T bars before its test window; ``anchored``: on every
    bar before it.
    """
    if mode not in MODES:
        raise ValidationError(f"walk-forward mode must be one of {', '.join(MODES)} (got {mode!r})")
    k, t, s = _count("n_folds", n_folds), _count("train_bars", train_bars), _count("test_bars", test_bars)
    if k is not None and t is not None and s is not None:
        raise ValidationError(f"give at most two of n_folds ({k}), train_bars ({t}) and test_bars ({s}): "
                              "any two fix the third")
    if train_fraction is not None and (t is not None or s is not None):
        raise ValidationError("give train_fraction or train_bars/test_bars, not both")
    if t is not None and s is not None:
        k = (n_bars - t) // s
        if k < 1:
            raise ValidationError(f"train_bars {t} + test_bars {s} exceed the {n_bars} bars of data")
    elif t is not None:
        k = k or DEFAULT_FOLDS
        s = (n_bars - t) // k
    elif s is not None:
        k = k or DEFAULT_FOLDS
        t = n_bars - k * s
    else:
        k = k or DEFAULT_FOLDS
        f = DEFAULT_TRAIN_FRACTION if train_fraction is None else float(train_fraction)
        if not 0.1 <= f <= 0.95:
            raise ValidationError(f"train_fraction must be in [0.1, 0.95] (got {train_fraction})")
        s = int(n_bars // (k + f / (1.0 - f)))
        t = n_bars - k * s
    if t < MIN_TRAIN_BARS or s < MIN_TEST_BARS:
        raise ValidationError(f"{n_bars} bars are too few for {k} fold(s): the first training window would "
                              f"have {t} bars (at least {MIN_TRAIN_BARS}) and each test window {s} (at least "
                              f"{MIN_TEST_BARS})")
    out = []
    for i in range(k):
        lo = t + i * s
        hi = n_bars if i == k - 1 else lo + s
        out.append(FoldWindow(i, lo - t if mode == "rolling" else 0, lo, hi))
    return out


@dataclass(frozen=True, eq=False)
class WalkForwardResult:
    """Per fold: the window bounds, the parameters chosen in-sample and their out-of-sample metrics;
    ``stitched`` chains the out-of-sample runs into one equity curve on contiguous bars (each fold starting
    with the capital the previous one ended with). ``overfitting``: DSR and PBO of the grid's combinations
    over the tested bars; ``deflated_sharpe_ratio``: the stitched curve's Sharpe deflated by the grid's
    number of trials."""

    folds: pd.DataFrame
    out_of_sample: list[BacktestResult] = field(repr=False)
    metric: str
    stitched: BacktestResult = field(repr=False)
    mode: str = "rolling"
    overfitting: OverfittingReport | None = field(default=None, repr=False)
    deflated_sharpe_ratio: float = float("nan")

    @property
    def equity(self) -> pd.Series:
        return self.stitched.equity

    @property
    def metrics(self) -> Metrics:
        return self.stitched.metrics

    def summary(self) -> pd.Series:
        f = self.folds
        o = self.overfitting
        return pd.Series(dtype=object, data={
            "mode": self.mode,
            "folds": len(f),
            "tested_bars": len(self.equity),
            f"mean_in_sample_{self.metric}": f[f"is_{self.metric}"].mean(),
            f"mean_out_of_sample_{self.metric}": f[f"oos_{self.metric}"].mean(),
            "stitched_oos_return": self.metrics.total_return,
            f"stitched_oos_{self.metric}": self.metrics[self.metric],
            "oos_trades": self.metrics.total_trades,
            "stitched_deflated_sharpe_ratio": self.deflated_sharpe_ratio,
            "grid_trials": o.n_trials if o is not None else float("nan"),
            "grid_deflated_sharpe_ratio": o.deflated_sharpe_ratio if o is not None else float("nan"),
            "grid_pbo": o.pbo if o is not None else float("nan"),
        })

    def describe_overfitting(self) -> str:
        """One line: the stitched curve's DSR next to the grid's DSR and PBO."""
        dsr = self.deflated_sharpe_ratio
        head = f"walk-forward deflated Sharpe ratio {'n/a' if not math.isfinite(dsr) else f'{dsr:.0%}'}"
        return head + ("" if self.overfitting is None else f"; grid {self.overfitting.describe()}")


def _window(md: MarketData, lo: int, hi: int) -> dict[str, pd.DataFrame]:
    return {s: f.iloc[lo:hi][md.tradeable[s].iloc[lo:hi].to_numpy()] for s, f in md.frames.items()}


def stitch(results: Sequence[BacktestResult], md: MarketData, config: BacktestConfig,
           fold_params: list[dict[str, Any]], benchmark_close: pd.Series | None = None) -> BacktestResult:
    """One result of consecutive out-of-sample runs on contiguous bars: fold k's equity and trade amounts
    scaled by the previous folds' growth (the capital carried over), the benchmark one buy & hold over
    the whole tested span, the metrics those of the stitched curve."""
    capital = config.initial_capital
    equity_parts, trade_parts = [], []
    scale = 1.0
    exposed = 0.0
    for r in results:
        equity_parts.append(r.equity * scale)
        t = r.trades.copy()
        for col in ("size", "fees", "pnl"):
            t[col] = t[col] * scale
        trade_parts.append(t)
        exposed += r.metrics.exposure * len(r.equity)
        scale *= float(r.equity.iloc[-1]) / capital
    equity = pd.concat(equity_parts).rename("equity")
    if equity.index.has_duplicates or not equity.index.is_monotonic_increasing:
        raise ValidationError("walk-forward: the out-of-sample windows overlap or are out of order")
    begin = int(md.index.get_loc(equity.index[0]))
    bench = benchmark_curve(md, config, begin, benchmark_close)
    if bench is not None:
        bench = bench.reindex(equity.index)
    trades = pd.concat(trade_parts, ignore_index=True)
    metrics = compute_metrics(equity, trades, initial_capital=capital, benchmark=bench,
                              exposure=exposed / len(equity), risk_free_rate=config.risk_free_rate)
    first = results[0]
    return BacktestResult(
        strategy_name=first.strategy_name, strategy_type=first.strategy_type,
        strategy_class=first.strategy_class, params={"walk_forward_folds": fold_params}, risk=first.risk,
        config=config, symbols=first.symbols, timeframe=first.timeframe, equity=equity, benchmark=bench,
        trades=trades, metrics=metrics, execution_time=sum(r.execution_time for r in results), data=md,
    )


def walk_forward_fold(md: MarketData, strategy: Strategy, grid: Mapping[str, Sequence[Any]], config: BacktestConfig,
                      window: FoldWindow, *, metric: str, chunk_size: int = 8, progress: bool = False,
                      benchmark_close: pd.Series | None = None
                      ) -> tuple[dict[str, Any], BacktestResult, dict[str, Any]]:
    """One fold of :func:`walk_forward` on its own (e.g. as one task of a cluster): the fold's row, its
    out-of-sample run and the parameters chosen in sample."""
    lo, split, hi = window.train_start, window.test_start, window.test_end
    table = run_sweep(_window(md, lo, split), strategy, grid, config, timeframe=md.timeframe,
                      chunk_size=chunk_size, progress=progress)
    best = best_row(table, metric)
    params = dict(table.attrs["params"][best])
    oos = run_backtest(_window(md, lo, hi), strategy.with_params(**params), config, timeframe=md.timeframe,
                       trade_start=md.index[split], close_at_end=True, benchmark_close=benchmark_close)
    is_value = float(table[metric].iloc[best])
    row = {
        "fold": window.fold, "train_start": md.index[lo], "train_end": md.index[split - 1],
        "test_start": md.index[split], "test_end": md.index[hi - 1], "train_bars": split - lo,
        "test_bars": hi - split, **params,
        f"is_{metric}": is_value if math.isfinite(is_value) else float("nan"),
        **{f"oos_{k}": v for k, v in oos.metrics.to_dict().items()},
    }
    return row, oos, params


def walk_forward_overfitting(md: MarketData, strategy: Strategy, grid: Mapping[str, Sequence[Any]],
                             config: BacktestConfig, stitched: BacktestResult, *, chunk_size: int = 8,
                             progress: bool = False) -> tuple[OverfittingReport | None, float]:
    """Overfitting figures of a walk-forward: every combination of ``grid`` run over the tested bars (the
    bars before as warm-up) gives a trial's daily returns; their DSR (of the best combination) and PBO
    by CSCV, and the stitched curve's Sharpe ratio deflated by the same trials (its probabilistic Sharpe
    ratio against the expected maximum Sharpe ratio of that many skill-less trials). (None, NaN) when the
    tested span has fewer than 2 days."""
    returns: dict[str, pd.Series] = {}

    def keep(result: BacktestResult) -> None:
        returns[combo_key(result.params)] = daily_returns(result.equity, config.initial_capital)

    run_sweep(md, strategy, grid, config, chunk_size=chunk_size, trade_start=stitched.start, progress=progress,
              on_result=keep)
    if not returns or min(len(r) for r in returns.values()) < 2:
        return None, float("nan")
    report = overfitting_report(pd.DataFrame(returns))
    wf = daily_returns(stitched.equity, config.initial_capital).to_numpy() - daily_rate(config.risk_free_rate)
    sd = float(np.std(wf, ddof=1))
    if not sd > 0:
        return report, float("nan")
    d = wf - wf.mean()
    m2 = float(np.mean(d * d))
    skew, kurt = float(np.mean(d ** 3)) / m2 ** 1.5, float(np.mean(d ** 4)) / m2 ** 2
    dsr = probabilistic_sharpe_ratio(float(wf.mean()) / sd, report.expected_max_sharpe, len(wf), skew, kurt)
    return report, dsr


def walk_forward(
    data: pd.DataFrame | Mapping[str, pd.DataFrame] | MarketData,
    strategy: Strategy,
    grid: Mapping[str, Sequence[Any]],
    config: BacktestConfig | None = None,
    *,
    timeframe: str = "1h",
    symbol: str = "ASSET",
    mode: str = "rolling",
    n_folds: int | None = None,
    train_bars: int | None = None,
    test_bars: int | None = None,
    train_fraction: float | None = None,
    metric: str = "sharpe_ratio",
    chunk_size: int = 8,
    overfitting: bool = True,
    benchmark_close: pd.Series | None = None,
    progress: bool = True,
) -> WalkForwardResult:
    """Walk-forward test whose out-of-sample windows tile the history after the first training window.

    In each fold the training bars pick the best parameters by ``metric`` (in its direction: the lowest
    max_drawdown, the highest Sharpe) and the test window runs them out of sample; see
    :func:`walk_forward_windows` for ``mode`` (``rolling`` or ``anchored``), ``n_folds``, ``train_bars``,
    ``test_bars`` and ``train_fraction``. With ``overfitting`` (default) the grid is also run over the
    tested bars for the DSR and PBO (:func:`walk_forward_overfitting`).
    """
    check_metric(metric)
    config = config or BacktestConfig()
    md = prepare_data(data, timeframe=timeframe, symbol=symbol)
    windows = walk_forward_windows(len(md.index), mode=mode, n_folds=n_folds, train_bars=train_bars,
                                   test_bars=test_bars, train_fraction=train_fraction)
    rows, results, chosen = [], [], []
    for window in windows:
        row, oos, params = walk_forward_fold(md, strategy, grid, config, window, metric=metric,
                                             chunk_size=chunk_size, progress=progress,
                                             benchmark_close=benchmark_close)
        rows.append(row)
        results.append(oos)
        chosen.append(params)
    return finish_walk_forward(md, strategy, grid, config, rows, results, chosen, metric=metric, mode=mode,
                               overfitting=overfitting, chunk_size=chunk_size, benchmark_close=benchmark_close,
                               progress=progress)


def finish_walk_forward(md: MarketData, strategy: Strategy, grid: Mapping[str, Sequence[Any]],
                        config: BacktestConfig, rows: list[dict[str, Any]], results: list[BacktestResult],
                        chosen: list[dict[str, Any]], *, metric: str, mode: str, overfitting: bool = True,
                        chunk_size: int = 8, benchmark_close: pd.Series | None = None,
                        progress: bool = False) -> WalkForwardResult:
    """The :class:`WalkForwardResult` of the folds' rows and out-of-sample runs (in fold order): the
    stitched run and, with ``overfitting``, its DSR and the grid's DSR and PBO."""
    stitched = stitch(results, md, config, chosen, benchmark_close)
    report, dsr = (walk_forward_overfitting(md, strategy, grid, config, stitched, chunk_size=chunk_size,
                                            progress=progress) if overfitting else (None, float("nan")))
    return WalkForwardResult(pd.DataFrame(rows), results, metric, stitched, mode, report, dsr)
