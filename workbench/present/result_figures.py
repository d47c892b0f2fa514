"""Figures of one backtest (``BacktestResult.plot()`` and the report's panels): equity vs buy & hold,
underwater drawdown with the worst periods, and each symbol's price with its trades.

Pure (data in, ``plotly.graph_objects.Figure`` out); plotly is imported only here, and this module only
when a figure is asked for, so ``import workbench.core.backtest`` stays light.

>>> fig = result.plot()                 # doctest: +SKIP
>>> drawdown_periods(result.equity, initial=result.config.initial_capital)   # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from workbench.core.backtest.drawdown import drawdown_periods, underwater
from workbench.core.markets import is_synthetic
from workbench.errors import ValidationError
from workbench.present.formatting import format_pct, format_time_kst

if TYPE_CHECKING:
    from workbench.core.backtest.result import BacktestResult

__all__ = ["MAX_POINTS", "drawdown_periods", "epoch_ms", "equity_vs_benchmark_figure", "plot_result", "thin",
           "underwater_figure"]

_UP, _DOWN, _FLAT = "#26a69a", "#ef5350", "#90a4ae"
_TEMPLATE = "plotly_white"


#: KST's offset from UTC in milliseconds (Korea has no daylight saving time)
KST_OFFSET_MS: Final = 9 * 3600 * 1000.0


def epoch_ms(times: object) -> np.ndarray:
    """Instants as float milliseconds on a KST wall clock, how a plotly date axis reads numbers (it shows
    them as they are, with no time zone): every chart's time axis is in KST like the reports' tables, so
    a trade marker sits at the time its row says. 8 bytes each in a figure instead of a 25-character ISO
    string (reports stay small). NaT becomes NaN."""
    # times: a Series, Index, array or list of instants; pandas-stubs types each form in its own overload
    index = pd.DatetimeIndex(pd.to_datetime(times, utc=True))  # type: ignore[call-overload]  # see above
    out = index.as_unit("ns").asi8.astype("float64") / 1e6 + KST_OFFSET_MS
    out[index.isna()] = np.nan
    return out


def equity_vs_benchmark_figure(equity: pd.Series, benchmark: pd.Series | None, *,
                               title: str = "Equity vs buy & hold (KRW)") -> go.Figure:
    """The strategy's equity and the buy-and-hold equity of the same capital (when given)."""
    if not isinstance(equity, pd.Series) or equity.empty:
        raise ValidationError("equity_vs_benchmark_figure: equity must be a non-empty Series")
    fig = go.Figure()
    fig.update_layout(template=_TEMPLATE, title=title, hovermode="x unified", yaxis_title="KRW",
                      yaxis_tickformat=",.0f", legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"},
                      xaxis_type="date")
    for trace in _equity_traces(equity, benchmark):
        fig.add_trace(trace)
    return fig


def _equity_traces(equity: pd.Series, benchmark: pd.Series | None) -> list[go.Scatter]:
    equity = thin(equity)
    benchmark = thin(benchmark) if benchmark is not None else None
    traces = [go.Scatter(x=epoch_ms(equity.index), y=equity.to_numpy(dtype=float), mode="lines", name="strategy",
                         line={"color": "#1e88e5", "width": 2}, hovertemplate="₩%{y:,.0f}")]
    if benchmark is not None and len(benchmark):
        traces.append(go.Scatter(x=epoch_ms(benchmark.index), y=benchmark.to_numpy(dtype=float), mode="lines",
                                 name="buy & hold", line={"color": _FLAT, "width": 1.5, "dash": "dot"},
                                 hovertemplate="₩%{y:,.0f}"))
    return traces


def _underwater_traces(equity: pd.Series, periods: pd.DataFrame, initial: float | None) -> list[go.Scatter]:
    under = thin(pd.Series(underwater(equity.to_numpy(dtype=float), initial) * 100.0, index=equity.index))
    traces = [go.Scatter(x=epoch_ms(under.index), y=under.to_numpy(), mode="lines", fill="tozeroy",
                         name="drawdown", line={"color": _DOWN, "width": 1}, hovertemplate="%{y:.2f}%")]
    if len(periods):  # numbered at their valleys (the worst-drawdowns table has the details)
        traces.append(go.Scatter(
            x=epoch_ms(periods["valley"]), y=periods["depth"].to_numpy(dtype=float) * 100.0, mode="markers+text",
            name="worst drawdowns", text=[f"#{i}" for i in range(1, len(periods) + 1)],
            textposition="bottom center", marker={"color": "#b71c1c", "size": 6},
            customdata=[format_pct(v) for v in periods["depth"]], hovertemplate="%{text}: %{customdata}"))
    return traces


def _shade(fig: go.Figure, equity: pd.Series, periods: pd.DataFrame, **where: int) -> None:
    for _, row in periods.iterrows():
        end = row["end"] if row["recovered"] else equity.index[-1]
        fig.add_vrect(x0=row["start"], x1=end, fillcolor="rgba(239,83,80,0.12)", line_width=0, **where)


def underwater_figure(equity: pd.Series, *, top: int = 5, initial: float | None = None,
                      title: str = "Underwater: drawdown from the peak") -> go.Figure:
    """Drawdown in percent below the running peak, the ``top`` worst periods shaded and numbered."""
    if not isinstance(equity, pd.Series) or equity.empty:
        raise ValidationError("underwater_figure: equity must be a non-empty Series")
    periods = drawdown_periods(equity, top, initial=initial)
    fig = go.Figure()
    fig.update_layout(template=_TEMPLATE, title=title, hovermode="x unified", yaxis_title="drawdown",
                      yaxis_ticksuffix="%", showlegend=False, xaxis_type="date")
    for trace in _underwater_traces(equity, periods, initial):
        fig.add_trace(trace)
    _shade(fig, equity, periods)
    return fig


def _trade_traces(close: pd.Series, trades: pd.DataFrame, symbol: str) -> list[go.Scatter]:
    own = trades[trades["symbol"] == symbol]
    close = thin(close)
    pnl = own["pnl"].astype(float).to_numpy()
    colour = np.where(pnl > 0, _UP, np.where(pnl < 0, _DOWN, _FLAT))
    closed = (own["status"] != "open").to_numpy() if "status" in own.columns else own["exit_time"].notna().to_numpy()
    entry_kst = [format_time_kst(t) for t in own["entry_time"]]
    exit_kst = [format_time_kst(t) for t in own["exit_time"]]
    pnl_text = [f"{v:+,.0f}" for v in pnl]
    return [
        go.Scatter(x=epoch_ms(close.index), y=close.to_numpy(dtype=float), mode="lines", name=symbol,
                   line={"color": "#37474f", "width": 1}, hovertemplate="%{y:,}"),
        go.Scatter(x=epoch_ms(own["entry_time"]), y=own["entry_price"].astype(float), mode="markers",
                   name=f"{symbol} entry",
                   marker={"symbol": "triangle-up", "size": 10, "color": colour, "line": {"width": 1}},
                   customdata=np.column_stack([entry_kst, pnl_text]) if len(own) else None,
                   hovertemplate="entry %{customdata[0]}<br>%{y:,}<br>trade PnL ₩%{customdata[1]}<extra></extra>"),
        go.Scatter(x=epoch_ms(own["exit_time"][closed]), y=own["exit_price"].astype(float)[closed], mode="markers",
                   name=f"{symbol} exit",
                   marker={"symbol": "triangle-down", "size": 10, "color": colour[closed], "line": {"width": 1}},
                   customdata=np.column_stack([np.array(exit_kst, dtype=object)[closed],
                                               np.array(pnl_text, dtype=object)[closed]]) if closed.any() else None,
                   hovertemplate="exit %{customdata[0]}<br>%{y:,}<br>PnL ₩%{customdata[1]}<extra></extra>"),
    ]


def plot_result(result: BacktestResult, *, top: int = 5, trades: bool = True) -> go.Figure:
    """One figure of a run: equity vs buy & hold, the underwater drawdown with the ``top`` worst periods
    shaded and numbered, and (``trades``) each symbol's close with entries ▲ and exits ▼ coloured by the
    trade's P/L. Synthetic sample data is said so in the title."""
    symbols = list(result.symbols) if trades else []
    rows = 2 + len(symbols)
    titles = ["equity vs buy & hold (KRW)", "drawdown", *(f"{s}: trades" for s in symbols)]
    heights = [0.4, 0.2, *([0.4 / len(symbols)] * len(symbols))] if symbols else [0.65, 0.35]
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.06 if symbols else 0.08,
                        row_heights=heights, subplot_titles=titles)
    initial = float(result.config.initial_capital)
    periods = drawdown_periods(result.equity, top, initial=initial)
    for trace in _equity_traces(result.equity, result.benchmark):
        fig.add_trace(trace, row=1, col=1)
    for trace in _underwater_traces(result.equity, periods, initial):
        fig.add_trace(trace, row=2, col=1)
    _shade(fig, result.equity, periods, row=2, col=1)
    for i, symbol in enumerate(symbols, start=3):
        close = result.data.frames[symbol]["close"]
        for trace in _trade_traces(close, result.trades, symbol):
            fig.add_trace(trace, row=i, col=1)
        fig.update_yaxes(title_text="KRW", tickformat=",", row=i, col=1)
    fig.update_xaxes(type="date")
    fig.update_yaxes(title_text="KRW", tickformat=",.0f", row=1, col=1)
    fig.update_yaxes(title_text="drawdown", ticksuffix="%", row=2, col=1)
    params = ", ".join(f"{k}={v}" for k, v in result.params.items())
    synthetic = " · SYNTHETIC sample data" if any(is_synthetic(s) for s in result.symbols) else ""
    fig.update_layout(template=_TEMPLATE, height=380 + 260 * rows, hovermode="x unified", showlegend=False,
                      title=f"{result.strategy_name}({params}) on {', '.join(result.symbols)} · "
                            f"{result.timeframe}{synthetic}")
    return fig


#: a line of more points than this is thinned for display (see :func:`thin`)
MAX_POINTS = 2000


def thin(series: pd.Series, max_points: int = MAX_POINTS) -> pd.Series:
    """``series`` with at most about ``max_points`` points for a chart: consecutive buckets keep their
    lowest and highest point (in time order), so peaks, valleys and the shape survive; the first and last
    point are always kept. Shorter series come back unchanged."""
    n = len(series)
    if n <= max_points or max_points < 4:
        return series
    size = int(np.ceil(2 * n / max_points))
    values = series.to_numpy(dtype=float)
    buckets = np.arange(n) // size
    frame = pd.DataFrame({"b": buckets, "v": values, "i": np.arange(n)})
    ordered = frame.sort_values(["b", "v", "i"], kind="stable")
    first = ordered.groupby("b", sort=False)["i"].first().to_numpy()
    last = ordered.groupby("b", sort=False)["i"].last().to_numpy()
    keep = np.unique(np.concatenate([[0, n - 1], first, last]))
    return series.iloc[keep]
