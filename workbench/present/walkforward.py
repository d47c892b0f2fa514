"""A walk-forward's summary for people: how it was cut, what the stitched out-of-sample curve earned,
and the overfitting figures (DSR, PBO) next to it. Used by ``workbench walk-forward`` and the
parameter_sweep report."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final

import pandas as pd

from workbench.present.formatting import (
    KST,
    MISSING,
    format_count,
    format_metric,
    format_params,
    format_pct,
    format_ratio,
    metric_short,
)

if TYPE_CHECKING:
    from workbench.core.backtest import WalkForwardResult

__all__ = ["fold_columns", "walk_forward_summary"]


#: the stitched curve's figures in the summary (labelled by their short names in the metric registry)
_STITCHED: Final = ("total_return", "annual_return", "sharpe_ratio", "max_drawdown", "max_drawdown_duration",
                    "total_trades", "benchmark_return")


def _probability(value: float) -> str:
    return format_pct(value, 0, sign=False) if math.isfinite(value) else MISSING


def walk_forward_summary(wf: WalkForwardResult) -> pd.DataFrame:
    """``figure | value`` rows: mode, folds and tested bars; mean in/out-of-sample metric; the stitched
    curve's return, CAGR, Sharpe, max drawdown, longest drawdown, trades and benchmark return; its
    deflated Sharpe ratio; and the grid's trials, best Sharpe against luck, DSR and PBO (CSCV)."""
    f, m, metric = wf.folds, wf.metrics, wf.metric
    first = f["train_bars"].iloc[0] if "train_bars" in f.columns and len(f) else float("nan")
    trains = "every bar before" if wf.mode == "anchored" else "the same number of bars just before"
    rows: list[tuple[str, str]] = [
        ("mode", f"{wf.mode}: each fold trains on {trains} its test window"),
        ("folds", format_count(len(f))),
        ("first training window", f"{format_count(first)} bars"),
        ("tested (out of sample)", f"{format_count(len(wf.equity))} bars, every bar after the first training "
                                   "window"),
        (f"mean in-sample {metric_short(metric)}", format_metric(metric, f[f"is_{metric}"].mean())),
        (f"mean out-of-sample {metric_short(metric)}", format_metric(metric, f[f"oos_{metric}"].mean())),
    ]
    for key in _STITCHED:
        rows.append((f"stitched {metric_short(key)}", format_metric(key, m[key])))
    rows.append(("stitched deflated Sharpe ratio", _probability(wf.deflated_sharpe_ratio)))
    o = wf.overfitting
    if o is None:
        rows.append(("overfitting (grid)", "not computed"))
    else:
        ann = math.sqrt(o.periods_per_year)
        rows += [
            ("grid trials", format_count(o.n_trials)),
            ("grid best Sharpe vs luck", f"{format_ratio(o.sharpe * ann)} vs "
                                         f"{format_ratio(o.expected_max_sharpe * ann)}"),
            ("grid deflated Sharpe ratio", _probability(o.deflated_sharpe_ratio)),
            ("grid PBO (CSCV)", _probability(o.pbo) if math.isfinite(o.pbo) else f"{MISSING} ({o.note})"),
        ]
    return pd.DataFrame(rows, columns=["figure", "value"])


def _period(start: pd.Timestamp, end: pd.Timestamp) -> str:
    """``2025-01-01→03-01`` in KST (the end's year only when it differs)."""
    a, b = start.astimezone(KST), end.astimezone(KST)
    return f"{a:%Y-%m-%d}→{b:{'%m-%d' if a.year == b.year else '%Y-%m-%d'}}"


def fold_columns(folds: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The walk-forward columns that matter, values unformatted: fold, train and test period (KST dates),
    the chosen parameters (``fast=5 slow=13``), in- and out-of-sample ``metric`` and the out-of-sample
    return, drawdown and trades (and the stored run's id when there is one)."""
    fixed = {"fold", "train_start", "train_end", "test_start", "test_end", "train_bars", "test_bars", "backtest_id"}
    params = [c for c in folds.columns if c not in fixed and not c.startswith(("is_", "oos_"))]
    frame = pd.DataFrame({
        "fold": folds["fold"],
        "train period": [_period(a, b) for a, b in zip(folds["train_start"], folds["train_end"], strict=True)],
        "test period": [_period(a, b) for a, b in zip(folds["test_start"], folds["test_end"], strict=True)],
        "parameters": [format_params({p: row[p] for p in params}) for _, row in folds.iterrows()],
        f"is_{metric}": folds[f"is_{metric}"],
    })
    for col in (f"oos_{metric}", "oos_total_return", "oos_max_drawdown", "oos_total_trades", "backtest_id"):
        if col in folds.columns and col not in frame.columns:
            frame[col] = folds[col]
    return frame
