"""The metric registry: every metric's name, title, unit, direction and formula, defined once.

The engine's :class:`~workbench.core.backtest.stats.Metrics` has one field per entry of :data:`METRICS`
(in this order); walk-forward ranks by their direction; the CLI, the reports and the notebooks title and
format them from here (:func:`workbench.present.formatting.metric_title`, ``metric_unit``). The grid's
overfitting figures (:mod:`workbench.core.backtest.overfitting`) are in :data:`GRID_METRICS`.

Units: ``pct`` a fraction shown in percent (0.05 = 5 %), ``krw`` an amount in KRW, ``ratio`` a plain
number, ``count`` a whole number, ``days`` a duration in days.

To add a metric: add its field to ``Metrics`` and its value to ``compute_metrics``
(``core/backtest/stats.py``), then its entry here in the same position; ``tests/test_formatting.py``
checks that the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["GRID_METRICS", "METRICS", "MetricInfo", "Unit", "metric_info"]

Unit = Literal["pct", "krw", "ratio", "count", "days"]


@dataclass(frozen=True, slots=True)
class MetricInfo:
    """One metric: ``title`` for people (tables, reports), ``short`` for compact headers and prose,
    ``unit``, ``higher_is_better`` (None: neither, e.g. beta, exposure, trade counts; walk-forward does
    not rank by those) and ``formula``, how it is computed."""

    title: str
    short: str
    unit: Unit
    higher_is_better: bool | None
    formula: str


def _m(title: str, short: str, unit: Unit, better: bool | None, formula: str) -> MetricInfo:
    return MetricInfo(title, short, unit, better, formula)


#: the metrics of one run (``Metrics`` fields, in this order). Daily returns are on the calendar-day grid
#: of :func:`~workbench.core.backtest.stats.daily_returns`; a year is 365 days.
METRICS: Final[dict[str, MetricInfo]] = {
    "total_return": _m("Total return", "return", "pct", True, "final equity / initial capital - 1"),
    "annual_return": _m("CAGR", "CAGR", "pct", True,
                        "(final equity / initial capital) ^ (365 / calendar days) - 1"),
    "benchmark_return": _m("Buy & hold return", "benchmark return", "pct", None,
                           "the benchmark's final value / initial capital - 1"),
    "excess_return": _m("Excess return", "excess return", "pct", True, "total return - buy & hold return"),
    "max_drawdown": _m("Max drawdown", "max drawdown", "pct", False,
                       "the deepest fall from the running peak (the initial capital the first peak), as a "
                       "positive fraction: -min(drawdown)"),
    "max_drawdown_duration": _m("Longest drawdown", "longest drawdown", "days", False,
                                "the longest time from a peak until the equity is back at it (or the last bar)"),
    "volatility": _m("Volatility (ann.)", "volatility", "pct", False, "std(daily returns, ddof 1) * sqrt(365)"),
    "sharpe_ratio": _m("Sharpe ratio", "Sharpe", "ratio", True,
                       "mean(r - rf) / std(r - rf, ddof 1) * sqrt(365), r daily returns, rf the daily risk-free rate"),
    "sortino_ratio": _m("Sortino ratio", "Sortino", "ratio", True,
                        "mean(r - rf) / sqrt(mean(min(r - rf, 0)^2)) * sqrt(365)"),
    "calmar_ratio": _m("Calmar ratio", "Calmar", "ratio", True, "CAGR / max drawdown"),
    "exposure": _m("Exposure time", "exposure", "pct", None, "the fraction of bars with a position"),
    "alpha": _m("Alpha (ann.)", "alpha", "pct", True,
                "(1 + mean(r - rf - beta * (b - rf)))^365 - 1, b the benchmark's daily returns"),
    "beta": _m("Beta", "beta", "ratio", None, "cov(r, b) / var(b) of the daily returns"),
    "var_95": _m("Daily VaR 95%", "VaR 95%", "pct", True, "the 5th percentile of the daily returns"),
    "cvar_95": _m("Daily CVaR 95%", "CVaR 95%", "pct", True, "the mean of the worst 5 % of the daily returns"),
    "best_day": _m("Best day", "best day", "pct", True, "the highest daily return"),
    "worst_day": _m("Worst day", "worst day", "pct", True, "the lowest daily return"),
    "win_rate": _m("Win rate", "win rate", "pct", True, "winning trades / trades"),
    "profit_factor": _m("Profit factor", "profit factor", "ratio", True,
                        "gross profit / gross loss of the trades (inf without a loss)"),
    "total_trades": _m("Trades", "trades", "count", None, "trades, open ones included"),
    "open_trades": _m("Open trades", "open trades", "count", None, "trades still open at the last bar"),
    "winning_trades": _m("Winning trades", "winning trades", "count", True, "trades with pnl > 0"),
    "losing_trades": _m("Losing trades", "losing trades", "count", False, "trades with pnl < 0"),
    "avg_win": _m("Average win", "average win", "krw", True, "mean pnl of the winning trades"),
    "avg_loss": _m("Average loss", "average loss", "krw", True, "mean pnl of the losing trades (negative)"),
    "largest_win": _m("Largest win", "largest win", "krw", True, "the highest trade pnl"),
    "largest_loss": _m("Largest loss", "largest loss", "krw", True, "the lowest trade pnl (negative)"),
    "max_win_streak": _m("Longest win streak", "win streak", "count", True,
                         "the most winning trades in a row, in exit order"),
    "max_loss_streak": _m("Longest loss streak", "loss streak", "count", False,
                          "the most losing trades in a row, in exit order"),
    "total_fees": _m("Fees paid", "fees", "krw", False, "the sum of every fill's fee"),
    "total_pnl": _m("Net PnL", "net PnL", "krw", True, "final equity - initial capital"),
}

#: the overfitting figures of a grid of runs (:class:`~workbench.core.backtest.overfitting.OverfittingReport`)
GRID_METRICS: Final[dict[str, MetricInfo]] = {
    "deflated_sharpe_ratio": _m("Deflated Sharpe ratio (probability of skill)", "DSR", "pct", True,
                                "P(true Sharpe > the best Sharpe of n skill-less trials), Bailey & López de "
                                "Prado 2014"),
    "pbo": _m("PBO (probability of backtest overfitting)", "PBO", "pct", False,
              "the share of CSCV splits whose in-sample winner ranks at or below the out-of-sample median"),
    "pbo_splits": _m("PBO blocks", "PBO blocks", "count", None, "the CSCV blocks of time"),
    "best_sharpe_annual": _m("Best Sharpe (ann.)", "best Sharpe", "ratio", True,
                             "the grid's best per-period Sharpe ratio * sqrt(periods per year)"),
    "luck_sharpe_annual": _m("Sharpe expected from luck (ann.)", "luck Sharpe", "ratio", None,
                             "the expected best per-period Sharpe of n skill-less trials * sqrt(periods per year)"),
}


def metric_info(name: str) -> MetricInfo | None:
    """The registry's entry of ``name`` (a run's metric or a grid's figure), None if it is neither."""
    return METRICS.get(name) or GRID_METRICS.get(name)
