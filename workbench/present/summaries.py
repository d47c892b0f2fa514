"""Summaries for people of the reports that are not one backtest: an Optuna study (which "best" figure is
which) and a paper-vs-backtest reconciliation (one headline line). Pure: values in, text and frames out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pandas as pd

from workbench.present.formatting import (
    format_count,
    format_krw,
    format_metric,
    format_params,
    format_pct,
    metric_title,
)

if TYPE_CHECKING:
    from workbench.core.quality import QualityReport

__all__ = ["comparison_kpis", "exploration_kpis", "reconciliation_headline", "study_headline", "study_summary",
           "sweep_headline"]


def study_summary(summary: Mapping[str, object], metric: str, *, folds: int, holdout: float) -> pd.DataFrame:
    """An Optuna study's summary (``OptimizeResult.summary()``) as ``figure | value | what it is`` rows:
    the three figures of ``metric`` say which data each was measured on."""
    title = metric_title(metric)
    oos = summary.get(f"out_of_sample_{metric}")
    rows = [
        ("study", str(summary.get("study")), "stored in PostgreSQL; give its name again to resume it"),
        ("trials", f"{format_count(summary.get('trials'))} ({format_count(summary.get('complete'))} complete, "
                   f"{format_count(summary.get('pruned'))} pruned)", "pruned: stopped early by the median pruner"),
        ("best parameters", format_params(summary.get("best_params")), "the best trial's"),
        (f"search {title}", format_metric(metric, summary.get(f"best_{metric}")),
         f"the best trial's objective: mean {title} over the {folds} search fold(s)"),
        (f"in-sample {title}", format_metric(metric, summary.get(f"in_sample_{metric}")),
         "best parameters backtested on the whole search range"),
        (f"out-of-sample {title}", format_metric(metric, oos),
         f"best parameters on the held-out last {format_pct(holdout, 0, sign=False)}, never searched"
         if holdout > 0 else "no held-out data (holdout = 0)"),
    ]
    return pd.DataFrame(rows, columns=["figure", "value", "what it is"]).set_index("figure")


def study_headline(summary: Mapping[str, object], metric: str, oos_return: float | None,
                   benchmark_return: float | None) -> str:
    """One line for the reports index and the report's top: best parameters, out-of-sample figure, and
    whether it beat buy & hold out of sample."""
    text = (f"best {format_params(summary.get('best_params'))}; out-of-sample "
            f"{metric_title(metric)} {format_metric(metric, summary.get(f'out_of_sample_{metric}'))}")
    if oos_return is None:
        return text
    text += f", return {format_pct(oos_return)}"
    if benchmark_return is not None and benchmark_return == benchmark_return:
        verdict = "beats" if oos_return > benchmark_return else "loses to"
        text += f" ({verdict} buy & hold {format_pct(benchmark_return)})"
    return text


def reconciliation_headline(paper_pnl: float, backtest_pnl: float, matched: int, extra: int, missed: int) -> str:
    """``paper PnL ₩1,234 vs backtest ₩1,200 (difference ₩34); 12 matched, 0 extra, 0 missed trades``."""
    return (f"paper PnL {format_krw(paper_pnl)} vs backtest {format_krw(backtest_pnl)} (difference "
            f"{format_krw(paper_pnl - backtest_pnl)}); {matched:,} matched, {extra:,} extra, {missed:,} missed trades")


def sweep_headline(table: pd.DataFrame, params: list[str], metric: str) -> str:
    """A ranked sweep's honest line: the best combination by ``metric`` and whether any combination beat
    buy & hold (``benchmark_return``; all combinations share it)."""
    from workbench.present.story import versus_benchmark

    labels = [format_params({p: row[p] for p in params}) for _, row in table.iterrows()]
    returns = dict(zip(labels, table["total_return"].astype(float), strict=True))
    bench = float(table["benchmark_return"].iloc[0]) if "benchmark_return" in table.columns and len(table) else \
        float("nan")
    return versus_benchmark(returns, bench, best=labels[0], ranked_by=metric).replace(
        "strategies", "combinations").replace("strategy", "combination")


def comparison_kpis(runs: pd.DataFrame) -> tuple[dict[str, float], str]:
    """The index's KPIs of a run comparison (those of the best run by Sharpe ratio) and its summary line."""
    if runs.empty:
        return {}, "no runs"
    best = runs.iloc[int(runs["sharpe_ratio"].astype(float).fillna(float("-inf")).to_numpy().argmax())]
    kpis = {k: float(best[k]) for k in ("total_return", "max_drawdown", "sharpe_ratio", "total_trades")
            if k in best.index and best[k] is not None}
    line = (f"best by Sharpe of {len(runs)}: #{int(best['id'])} {best['strategy_name']} "
            f"{format_params((best.get('parameters') or {}).get('params'))} ({format_pct(best['total_return'])})")
    return kpis, line


def exploration_kpis(candles: pd.DataFrame, report: QualityReport) -> tuple[dict[str, float], str]:
    """The index's KPIs of a data exploration (buy & hold over the window, close to close) and its
    summary line: bars, gaps, missing bars and price jumps of the quality check."""
    close = candles["close"].astype(float)
    kpis = {"benchmark_return": float(close.iloc[-1] / close.iloc[0] - 1.0)} if len(close) > 1 else {}
    s = report.summary()
    line = (f"{len(candles):,} bars; quality ({s['timeframe']}): {s['gaps']:,} gaps, {s['missing_bars']:,} "
            f"missing bars, {s['price_jumps']:,} price jumps, {s['bad_bars']:,} bad bars")
    return kpis, line
