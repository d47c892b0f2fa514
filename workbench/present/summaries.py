"""Summaries for people of the reports that are not one backtest: an Optuna study (which "best" figure is
which) and a paper-vs-backtest reconciliation (one headline line). Pure: values in, text and frames out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

import pandas as pd

from workbench.present.formatting import (
    format_count,
    format_krw,
    format_metric,
    format_params,
    format_pct,
    format_price,
    format_time_kst,
    metric_title,
)

if TYPE_CHECKING:
    from workbench.core.quality import QualityReport

__all__ = ["comparison_kpis", "exploration_kpis", "importances_table", "matched_trades_tables", "reconciliation_causes",
           "reconciliation_headline", "study_headline", "study_summary", "sweep_headline"]


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
    from workbench.present.comparison import run_label

    sharpe = pd.to_numeric(runs["sharpe_ratio"], errors="coerce").astype(float).fillna(float("-inf"))
    best = runs.iloc[int(sharpe.to_numpy().argmax())]
    kpis = {k: float(best[k]) for k in ("total_return", "benchmark_return", "max_drawdown", "sharpe_ratio",
                                        "total_trades")
            if k in best.index and best[k] is not None and best[k] == best[k]}
    label = run_label({str(k): v for k, v in best.items()})
    line = f"best by Sharpe of {len(runs)}: {label} ({format_pct(best['total_return'])}"
    bench = best.get("benchmark_return")
    if bench is not None and bench == bench:
        verdict = "beats" if float(best["total_return"]) > float(bench) else "loses to"
        line += f", {verdict} buy & hold {format_pct(bench)}"
    return kpis, line + ")"


def exploration_kpis(candles: pd.DataFrame, report: QualityReport) -> tuple[dict[str, float], str]:
    """The index's KPIs of a data exploration (buy & hold over the window, close to close) and its
    summary line: bars, gaps, missing bars and price jumps of the quality check."""
    close = candles["close"].astype(float)
    kpis = {"benchmark_return": float(close.iloc[-1] / close.iloc[0] - 1.0)} if len(close) > 1 else {}
    s = report.summary()
    line = (f"{len(candles):,} bars; quality ({s['timeframe']}): {s['gaps']:,} gaps, {s['missing_bars']:,} "
            f"missing bars, {s['price_jumps']:,} price jumps, {s['bad_bars']:,} bad bars")
    return kpis, line


def reconciliation_causes(summary: pd.DataFrame) -> pd.DataFrame:
    """``Reconciliation.summary()`` for people: one row per cause (``partial_fills`` -> ``partial fills``)
    with its PnL effect in KRW and its share of the total difference."""
    return pd.DataFrame({
        "PnL effect": [format_krw(v) for v in summary["krw"]],
        "share of the difference": [format_pct(v) for v in summary["share"]],
    }, index=pd.Index([str(c).replace("_", " ") for c in summary.index], name="cause"))


#: the matched trades' columns of both sides, and their titles (``_p``: paper, ``_b``: backtest)
_SIDES: Final = (("size", "size", "price"), ("entry_price", "entry price", "price"),
                 ("exit_price", "exit price", "price"), ("fees", "fees", "krw"))
_EFFECTS: Final = (("size_effect", "size"), ("entry_price_effect", "entry price"),
                   ("exit_price_effect", "exit price"), ("fee_effect", "fees"), ("pnl_difference", "total"))


def matched_trades_tables(matched: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The matched trades of a reconciliation as two tables that fit a page: paper vs backtest fills
    (size, entry and exit price, fees), and each trade's PnL difference by cause, in KRW. Times in KST."""
    def fmt(kind: str, v: object) -> str:
        return format_price(v) if kind == "price" else format_krw(v)

    numbers = pd.RangeIndex(1, len(matched) + 1, name="#")
    head = {"symbol": [str(s) for s in matched["symbol"]],
            "entry (KST)": [format_time_kst(t) for t in matched["entry_time"]]}
    fills = pd.DataFrame({**head, **{f"{title} ({side})": [fmt(kind, v) for v in matched[f"{col}_{s}"]]
                                     for col, title, kind in _SIDES for s, side in (("p", "paper"), ("b", "backtest"))
                                     if f"{col}_{s}" in matched.columns}}, index=numbers)
    effects = pd.DataFrame({**head, **{title: [format_krw(v, 2) for v in matched[col]]
                                       for col, title in _EFFECTS if col in matched.columns}}, index=numbers)
    return fills, effects


def importances_table(importances: pd.Series) -> pd.DataFrame:
    """Parameter importances (fANOVA, summing to 1) as each parameter's share in percent, largest first."""
    ordered = importances.astype(float).sort_values(ascending=False)
    return pd.DataFrame({"importance": [format_pct(v, 1, sign=False) for v in ordered]},
                        index=pd.Index([str(k) for k in ordered.index], name="parameter"))
