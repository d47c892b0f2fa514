"""The tearsheet parts of a backtest report: each metric of the strategy next to its benchmark's, rolling
Sharpe ratio and volatility, and the distribution of daily returns (strategy and benchmark).

Daily returns are those of the metrics (:func:`workbench.core.backtest.stats.daily_returns`: the calendar-day
grid, a day without bars a 0 return), so the figures agree with the KPI block.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from workbench.core.backtest.stats import DAYS_PER_YEAR, Metrics, compute_metrics, daily_rate, daily_returns
from workbench.errors import ValidationError
from workbench.present.formatting import MISSING, format_metric, metric_title
from workbench.present.result_figures import epoch_ms

if TYPE_CHECKING:
    from workbench.core.backtest import BacktestResult

__all__ = ["ROLLING_DAYS", "benchmark_metrics", "metrics_with_benchmark", "return_distribution_figure",
           "rolling_figure", "rolling_ratios"]

#: the window of the rolling figures, in calendar days
ROLLING_DAYS: Final = 30
#: metrics that describe trades or the benchmark itself: no benchmark value
_NO_BENCHMARK: Final = frozenset({"benchmark_return", "excess_return", "alpha", "beta", "exposure", "win_rate",
                                  "profit_factor", "total_trades", "open_trades", "winning_trades",
                                  "losing_trades", "avg_win", "avg_loss", "largest_win", "largest_loss",
                                  "max_win_streak", "max_loss_streak", "total_fees"})
_STRATEGY, _BENCH = "#1e88e5", "#90a4ae"


def benchmark_metrics(result: BacktestResult) -> Metrics | None:
    """The metrics of the run's benchmark equity (no trades; None without a benchmark)."""
    if result.benchmark is None or result.benchmark.empty:
        return None
    empty = pd.DataFrame({"pnl": pd.Series(dtype="float64"), "fees": pd.Series(dtype="float64"),
                          "status": pd.Series(dtype=object), "exit_time": pd.Series(dtype="datetime64[ns, UTC]")})
    return compute_metrics(result.benchmark, empty, initial_capital=result.config.initial_capital,
                           risk_free_rate=result.config.risk_free_rate)


def metrics_with_benchmark(result: BacktestResult) -> pd.DataFrame:
    """Every metric formatted for people, the strategy's next to its benchmark's (``–`` for trade
    statistics and comparisons, and everywhere without a benchmark); the benchmark column is named
    after it (``KRW-BTC``, ``equal-weight``)."""
    bench = benchmark_metrics(result)
    values = result.metrics.to_dict()
    name = f"benchmark ({result.config.benchmark})"
    return pd.DataFrame({
        "strategy": [format_metric(k, v) for k, v in values.items()],
        name: [MISSING if bench is None or k in _NO_BENCHMARK else format_metric(k, bench[k]) for k in values],
    }, index=pd.Index([metric_title(k) for k in values], name="metric"))


def rolling_ratios(equity: pd.Series, initial_capital: float, *, days: int = ROLLING_DAYS,
                   risk_free_rate: float = 0.0) -> pd.DataFrame:
    """Per calendar day (UTC), over the last ``days`` daily returns: annualised Sharpe ratio
    (mean(r - rf) / std(r - rf), ddof 1, x sqrt(365)) and volatility (std x sqrt(365)); NaN until
    ``days`` returns exist (and Sharpe for a flat window)."""
    if days < 2:
        raise ValidationError(f"rolling window must be >= 2 days (got {days})")
    r = daily_returns(equity, initial_capital)
    excess = r - daily_rate(risk_free_rate)
    root = math.sqrt(DAYS_PER_YEAR)
    std = excess.rolling(days).std(ddof=1)
    sharpe = (excess.rolling(days).mean() / std.where(std > 0)) * root
    return pd.DataFrame({"sharpe_ratio": sharpe, "volatility": r.rolling(days).std(ddof=1) * root})


def rolling_figure(result: BacktestResult, *, days: int = ROLLING_DAYS) -> go.Figure:
    """Rolling ``days``-day Sharpe ratio (top) and annualised volatility (bottom) of the strategy and its
    benchmark."""
    cap, rf = result.config.initial_capital, result.config.risk_free_rate
    curves = {"strategy": rolling_ratios(result.equity, cap, days=days, risk_free_rate=rf)}
    if result.benchmark is not None:
        curves[f"benchmark ({result.config.benchmark})"] = rolling_ratios(result.benchmark, cap, days=days,
                                                                          risk_free_rate=rf)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=(f"Sharpe ratio, rolling {days} days",
                                        f"volatility (ann.), rolling {days} days"))
    for (name, frame), color in zip(curves.items(), (_STRATEGY, _BENCH), strict=False):
        x = epoch_ms(frame.index)
        fig.add_trace(go.Scatter(x=x, y=frame["sharpe_ratio"].to_numpy(), name=name, mode="lines",
                                 line={"color": color}, legendgroup=name), row=1, col=1)
        fig.add_trace(go.Scatter(x=x, y=frame["volatility"].to_numpy() * 100, name=name, mode="lines",
                                 line={"color": color}, legendgroup=name, showlegend=False), row=2, col=1)
    fig.update_layout(template="plotly_white", hovermode="x unified", height=520,
                      title=f"Rolling Sharpe ratio and volatility ({days} calendar days)")
    fig.update_xaxes(type="date")
    fig.update_yaxes(ticksuffix="%", row=2, col=1)
    return fig


def return_distribution_figure(result: BacktestResult, *, bins: int = 60) -> go.Figure:
    """Histogram of the daily returns (percent) of the strategy and its benchmark, overlaid."""
    cap = result.config.initial_capital
    series = {"strategy": daily_returns(result.equity, cap)}
    if result.benchmark is not None:
        series[f"benchmark ({result.config.benchmark})"] = daily_returns(result.benchmark, cap)
    if len(series["strategy"]) < 2:
        raise ValidationError(f"return_distribution_figure: need at least 2 days (got {len(series['strategy'])})")
    fig = go.Figure()
    lo = min(float(s.min()) for s in series.values()) * 100
    hi = max(float(s.max()) for s in series.values()) * 100
    size = (hi - lo) / bins if hi > lo else 1.0
    for (name, r), color in zip(series.items(), (_STRATEGY, _BENCH), strict=False):
        pct = r.to_numpy() * 100
        fig.add_trace(go.Histogram(x=pct, name=f"{name}: mean {np.mean(pct):+.2f}%, std {np.std(pct, ddof=1):.2f}%",
                                   xbins={"start": lo, "end": hi + size, "size": size}, opacity=0.6,
                                   marker_color=color))
    fig.update_layout(template="plotly_white", barmode="overlay", hovermode="closest",
                      title="Distribution of daily returns", xaxis_title="daily return", xaxis_ticksuffix="%",
                      yaxis_title="days")
    return fig
