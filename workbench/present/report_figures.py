"""Plotly figures for notebooks and reports (pure: data in, ``plotly.graph_objects.Figure`` out).

Every function validates its input and raises :class:`workbench.errors.ValidationError` (a
``ValueError``) naming what is missing. Returns, drawdowns and rates are drawn in percent.

>>> from workbench.present import equity_figure, label_figure, sample_label
>>> fig = label_figure(equity_figure(result.equity), sample_label(result.symbols))  # doctest: +SKIP
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal, SupportsFloat, cast

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from workbench.core.backtest.drawdown import underwater
from workbench.core.markets import SAMPLE_LABEL, SYNTHETIC_PREFIX, is_synthetic
from workbench.errors import ValidationError
from workbench.present.formatting import format_metric, metric_title
from workbench.present.result_figures import epoch_ms

if TYPE_CHECKING:
    from IPython.display import Markdown

__all__ = [
    "SYNTHETIC_PREFIX",
    "MAX_BARS",
    "candles_figure",
    "coarser_bars",
    "drawdown_figure",
    "equity_figure",
    "indicators_figure",
    "label_figure",
    "monthly_returns_heatmap",
    "returns_histogram",
    "runs_comparison_figure",
    "sample_label",
    "sample_notice",
    "setup_plotly",
    "sweep_heatmap",
    "trades_on_price",
    "walk_forward_figure",
]

_TEMPLATE: Final = "plotly_white"
_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_KEY: Final = re.compile(r"^(\d{4})-(\d{2})$")
_UP, _DOWN = "#26a69a", "#ef5350"


def setup_plotly() -> None:
    """Render figures with plotly's offline ``notebook`` renderer.

    plotly.js is embedded once in the notebook's output (at the first figure), so the HTML that
    nbconvert makes of it shows the figures without internet access. The renderer registered as
    ``notebook`` is replaced by one that also leaves out the MathJax ``<script src>`` from a CDN that
    plotly adds to every figure (figures here use no LaTeX). Call it in a notebook's first code cell;
    importing this module changes nothing.
    """
    import plotly.io as pio

    pio.renderers["notebook"] = _offline_notebook_renderer()
    pio.renderers.default = "notebook"


def _offline_notebook_renderer() -> Any:
    from plotly.io.base_renderers import NotebookRenderer

    class OfflineNotebookRenderer(NotebookRenderer):  # type: ignore[misc]  # plotly is untyped: an Any base
        """plotly's NotebookRenderer (plotly.js embedded once) without per-figure CDN scripts."""

        def to_mimebundle(self, fig_dict: dict[str, Any]) -> dict[str, str]:
            import plotly.io as pio

            html = pio.to_html(fig_dict, config=self.config, auto_play=self.auto_play, include_plotlyjs=False,
                               include_mathjax=False, post_script=self.post_script, full_html=False,
                               animation_opts=self.animation_opts, default_width="100%", default_height=525,
                               validate=False)
            import json

            # the figure's data too: Jupyter renders it without the plotly.js that the kept .ipynb omits
            figure = json.loads(pio.to_json(fig_dict, validate=False, remove_uids=False))
            return {"text/html": html, "application/vnd.plotly.v1+json": figure}

    return OfflineNotebookRenderer()


# -- labels -------------------------------------------------------------------------------------------

def _symbol_list(symbols: str | Iterable[str] | None) -> list[str]:
    if symbols is None:
        return []
    items = symbols.split(",") if isinstance(symbols, str) else list(symbols)
    return [str(s).strip().upper() for s in items if str(s).strip()]


def sample_label(symbols: str | Iterable[str] | None) -> str | None:
    """The synthetic-data label if any of ``symbols`` (a list or ``"A,B"``) is a sample symbol, else None.

    >>> sample_label("KRW-SYNBTC,KRW-SYNETH") is not None, sample_label(["KRW-BTC"])
    (True, None)
    """
    return SAMPLE_LABEL if any(is_synthetic(s) for s in _symbol_list(symbols)) else None


def sample_notice(symbols: str | Iterable[str] | None) -> Markdown | None:
    """A Markdown warning to display when ``symbols`` are synthetic sample data, else None.

    As a cell's last expression it shows the warning (None shows nothing).
    """
    label = sample_label(symbols)
    if label is None:
        return None
    from IPython.display import Markdown

    return Markdown(f"> **⚠ {label}**")


def label_figure(fig: go.Figure, text: str | None) -> go.Figure:
    """Stamp ``text`` (e.g. :data:`~workbench.core.markets.SAMPLE_LABEL`) across the top of ``fig``.

    ``text`` None or empty leaves the figure as it is, so ``label_figure(fig, sample_label(symbols))``
    works for real and synthetic data alike. Returns ``fig`` (changed in place).
    """
    if not isinstance(fig, go.Figure):
        raise ValidationError(f"label_figure: expected a plotly Figure, got {type(fig).__name__}")
    if not text:
        return fig
    # between the title (moved to the very top) and the plot, above any subplot titles and above a legend laid
    # out in a row over the plot (which, centred, it would cover on a page narrower than title + legend + label)
    above_titles = any(a.yref == "paper" and a.y is not None and a.y >= 0.99 and a.name != "data_label"
                       for a in fig.layout.annotations)
    legend = fig.layout.legend
    legend_on_top = (fig.layout.showlegend is not False and legend.orientation == "h" and legend.y is not None
                     and legend.y >= 1.0)
    fig.add_annotation(
        name="data_label", text=f"<b>{text}</b>", xref="paper", yref="paper", x=0.5, y=1.0,
        xanchor="center", yanchor="bottom", yshift=44 if legend_on_top else 28 if above_titles else 6, showarrow=False,
        font={"color": "#b71c1c", "size": 12}, bgcolor="rgba(255, 235, 238, 0.9)", bordercolor="#b71c1c",
        borderwidth=1,
    )
    fig.update_layout(margin_t=max(125, fig.layout.margin.t or 0), title_yref="container", title_y=0.985,
                      title_yanchor="top")
    return fig


# -- helpers -----------------------------------------------------------------------------------------

def _require_columns(df: Any, columns: Iterable[str], what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise ValidationError(f"{what}: expected a DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValidationError(f"{what}: missing column(s) {missing} (has {list(df.columns)})")


def _require_rows(df: pd.DataFrame | pd.Series, what: str) -> None:
    if len(df) == 0:
        raise ValidationError(f"{what}: no rows")


def _curves(equity: pd.Series | Mapping[str, pd.Series], what: str) -> dict[str, pd.Series]:
    if isinstance(equity, pd.Series):
        curves = {str(equity.name) if equity.name is not None else "equity": equity}
    elif isinstance(equity, Mapping):
        curves = {str(k): v for k, v in equity.items()}
    else:
        raise ValidationError(f"{what}: expected a Series or a mapping of name -> Series, "
                              f"got {type(equity).__name__}")
    if not curves:
        raise ValidationError(f"{what}: no equity curves given")
    for name, s in curves.items():
        if not isinstance(s, pd.Series):
            raise ValidationError(f"{what}: curve {name!r} is a {type(s).__name__}, not a Series")
        if len(s) == 0:
            raise ValidationError(f"{what}: curve {name!r} is empty")
    return curves


def _figure(title: str | None, **layout: Any) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(**{"template": _TEMPLATE, "title": title, "hovermode": "x unified", **layout})
    return fig


def _ohlc(prices: pd.DataFrame) -> bool:
    return all(c in prices.columns for c in ("open", "high", "low", "close"))


#: charts of prices with more bars than this are drawn from coarser bars (keeps reports small)
MAX_BARS: Final = 1000


def coarser_bars(prices: pd.DataFrame, max_bars: int = MAX_BARS) -> pd.DataFrame:
    """``prices`` merged into at most ``max_bars`` bars of consecutive rows (open first, high max,
    low min, close last, volume sum; each at its first bar's time), for display only."""
    n = len(prices)
    if n <= max_bars:
        return prices
    size = int(np.ceil(n / max_bars))
    groups = np.arange(n) // size
    rules = {c: r for c, r in (("open", "first"), ("high", "max"), ("low", "min"), ("close", "last"),
                               ("volume", "sum")) if c in prices.columns}
    merged = prices[list(rules)].groupby(groups).agg(rules)
    merged.index = prices.index[::size][:len(merged)]
    return merged


def _price_trace(prices: pd.DataFrame, name: str) -> go.Candlestick | go.Scatter:
    prices = coarser_bars(prices)
    if _ohlc(prices):
        return go.Candlestick(x=epoch_ms(prices.index), open=prices["open"], high=prices["high"], low=prices["low"],
                              close=prices["close"], name=name, increasing_line_color=_UP,
                              decreasing_line_color=_DOWN)
    return go.Scatter(x=epoch_ms(prices.index), y=prices["close"], mode="lines", name=name)


# -- equity and returns -------------------------------------------------------------------------------

def equity_figure(equity: pd.Series | Mapping[str, pd.Series], *, title: str = "Equity (KRW)",
                  benchmarks: Mapping[str, pd.Series | None] | None = None) -> go.Figure:
    """Equity curve(s): one line per Series (a mapping overlays several runs, keyed by label); ``benchmarks``
    (label -> buy & hold equity, None: none) adds each distinct one as a dotted grey line."""
    curves = _curves(equity, "equity_figure")
    fig = _figure(title, yaxis_title="KRW", yaxis_tickformat=",.0f",
                  legend_title_text="run" if len(curves) > 1 else None)
    for name, s in curves.items():
        fig.add_trace(go.Scatter(x=epoch_ms(s.index), y=s.to_numpy(dtype=float), mode="lines", name=name,
                                 hovertemplate="₩%{y:,.0f}"))
    drawn: list[pd.Series] = []
    for name, b in (benchmarks or {}).items():
        if b is None or b.empty or any(b.index.equals(d.index) and np.allclose(b.to_numpy(), d.to_numpy())
                                       for d in drawn):
            continue
        drawn.append(b)
        fig.add_trace(go.Scatter(x=epoch_ms(b.index), y=b.to_numpy(dtype=float), mode="lines",
                                 name=f"buy & hold {name}", hovertemplate="₩%{y:,.0f}",
                                 line={"color": "#90a4ae", "width": 1.5, "dash": "dot"}))
    fig.update_layout(showlegend=len(curves) + len(drawn) > 1)
    if len(curves) + len(drawn) > 2:  # many lines: the legend below the plot, which keeps the page's width
        fig.update_layout(legend={"orientation": "h", "y": -0.15, "yanchor": "top", "x": 0.0, "xanchor": "left"})
    fig.update_xaxes(type="date")  # KST wall clock (epoch_ms)
    return fig


def drawdown_figure(equity: pd.Series | Mapping[str, pd.Series], *, title: str = "Drawdown",
                    initial: float | None = None) -> go.Figure:
    """Drawdown from the running peak in percent (0 at new highs, negative below;
    :func:`workbench.core.backtest.drawdown.underwater`): ``initial``, the runs' initial capital, is
    the first peak, as in the ``max_drawdown`` metric (None: each curve's first value)."""
    curves = _curves(equity, "drawdown_figure")
    fig = _figure(title, yaxis_title="drawdown", yaxis_ticksuffix="%")
    single = len(curves) == 1
    for name, s in curves.items():
        dd = underwater(s.to_numpy(dtype=float), initial) * 100.0
        fig.add_trace(go.Scatter(x=epoch_ms(s.index), y=dd, mode="lines", name=name, fill="tozeroy" if single else None,
                                 line={"color": _DOWN} if single else None,
                                 hovertemplate="%{y:.2f}%<extra>" + name + "</extra>"))
    fig.update_layout(showlegend=not single)
    fig.update_xaxes(type="date")  # KST wall clock (epoch_ms)
    return fig


def monthly_returns_heatmap(monthly: Mapping[str, float], *, title: str = "Monthly returns") -> go.Figure:
    """Monthly returns ``{"YYYY-MM": fractional return}``, coloured and labelled in percent.

    Up to 12 months from the first to the last one given: one row of exactly those months (``Jan 2025``
    ...). Longer: a years x months grid, blank outside the range. ``z`` holds the returns in percent.
    """
    if not isinstance(monthly, Mapping):
        raise ValidationError(f"monthly_returns_heatmap: expected a mapping 'YYYY-MM' -> return, "
                              f"got {type(monthly).__name__}")
    if not monthly:
        raise ValidationError("monthly_returns_heatmap: no monthly returns given")
    cells: dict[tuple[int, int], float] = {}
    for key, value in monthly.items():
        m = _MONTH_KEY.match(str(key))
        if m is None or not 1 <= int(m.group(2)) <= 12:
            raise ValidationError(f"monthly_returns_heatmap: key {key!r} is not a month 'YYYY-MM'")
        if value is None or not isinstance(value, int | float | np.number):
            raise ValidationError(f"monthly_returns_heatmap: return of {key} is not a number ({value!r})")
        cells[(int(m.group(1)), int(m.group(2)))] = float(value)
    first, last = min(cells), max(cells)
    span = (last[0] - first[0]) * 12 + last[1] - first[1] + 1
    if span <= 12:  # one row of the months in range only
        months = [((first[0] * 12 + first[1] - 1 + k) // 12, (first[0] * 12 + first[1] - 1 + k) % 12 + 1)
                  for k in range(span)]
        x = [f"{_MONTHS[mo - 1]} {y}" for y, mo in months]
        y_labels = ["return"]
        z = [[cells[m] * 100.0 if m in cells else None for m in months]]
    else:  # years x months, blank outside the range
        years = list(range(first[0], last[0] + 1))
        x = list(_MONTHS)
        y_labels = [str(y) for y in years]
        z = [[cells[(y, mo)] * 100.0 if (y, mo) in cells else None for mo in range(1, 13)] for y in years]
    text = [["" if v is None else f"{v:+.1f}%" for v in row] for row in z]
    finite = [abs(v) for row in z for v in row if v is not None and math.isfinite(v)]
    bound = max(finite) if finite and max(finite) > 0 else 1.0
    fig = _figure(title, hovermode="closest", yaxis={"autorange": "reversed"},
                  height=max(280, 110 + 45 * len(y_labels)))
    fig.add_trace(go.Heatmap(
        x=x, y=y_labels, z=z, text=text, texttemplate="%{text}",
        colorscale="RdYlGn", zmid=0.0, zmin=-bound, zmax=bound, xgap=2, ygap=2,
        colorbar={"ticksuffix": "%", "nticks": 5, "thickness": 14,
                  "title": {"text": "return", "side": "right"}},
        hovertemplate="%{x} %{y}: %{z:+.2f}%<extra></extra>",
    ))
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category")
    return fig


def returns_histogram(prices: pd.DataFrame | pd.Series, *, bins: int = 80,
                      title: str = "Distribution of bar returns") -> go.Figure:
    """Histogram of bar-to-bar close returns in percent, with mean and standard deviation."""
    close = prices if isinstance(prices, pd.Series) else None
    if close is None:
        _require_columns(prices, ["close"], "returns_histogram")
        close = prices["close"]
    rets: pd.Series[float] = close.astype(float).pct_change().dropna() * 100.0
    if len(rets) < 2:
        raise ValidationError(f"returns_histogram: need at least 3 prices (got {len(close)})")
    fig = _figure(title, hovermode="closest", xaxis_title="return per bar", xaxis_ticksuffix="%",
                  yaxis_title="bars", bargap=0.02, showlegend=False)
    fig.add_trace(go.Histogram(x=rets.to_numpy(), nbinsx=bins, name="returns", marker_color="#5c6bc0"))
    fig.add_vline(x=float(rets.mean()), line_dash="dash", line_color="#37474f")
    # pandas-stubs types skew/kurt of any Series as any scalar; of floats they are floats
    skew, kurt = float(cast("SupportsFloat", rets.skew())), float(cast("SupportsFloat", rets.kurt()))
    fig.add_annotation(xref="paper", yref="paper", x=0.99, y=0.98, xanchor="right", showarrow=False,
                       align="right", text=(f"mean {float(rets.mean()):+.3f}%<br>std {float(rets.std()):.3f}%<br>"
                                            f"skew {skew:+.2f}<br>kurtosis {kurt:.2f}"))
    return fig


# -- prices ------------------------------------------------------------------------------------------

def candles_figure(candles: pd.DataFrame, *, symbol: str | None = None, volume: bool = True,
                   title: str | None = None) -> go.Figure:
    """Candlestick chart with a volume panel below (``open high low close volume``, index ts)."""
    _require_columns(candles, ["open", "high", "low", "close"] + (["volume"] if volume else []),
                     "candles_figure")
    _require_rows(candles, "candles_figure")
    name = symbol or "price"
    candles = coarser_bars(candles)
    fig = make_subplots(rows=2 if volume else 1, cols=1, shared_xaxes=True, vertical_spacing=0.03,
                        row_heights=[0.75, 0.25] if volume else None)
    fig.add_trace(_price_trace(candles, name), row=1, col=1)
    if volume:
        up = (candles["close"] >= candles["open"]).to_numpy()
        fig.add_trace(go.Bar(x=epoch_ms(candles.index), y=candles["volume"], name="volume", showlegend=False,
                             marker_color=np.where(up, _UP, _DOWN)), row=2, col=1)
        fig.update_yaxes(title_text="volume", row=2, col=1)
    fig.update_xaxes(type="date")
    fig.update_layout(template=_TEMPLATE, title=title or f"{name} candles", xaxis_rangeslider_visible=False,
                      showlegend=False, height=600 if volume else 450)
    fig.update_yaxes(title_text="KRW", row=1, col=1)
    return fig


def indicators_figure(candles: pd.DataFrame, indicators: pd.DataFrame, *,
                      emas: Sequence[str] = ("ema_21", "ema_50"), title: str | None = None) -> go.Figure:
    """Close with Bollinger bands and EMAs, and an RSI panel (30/70 lines) below.

    ``indicators`` is the indicator table (``bollinger_upper/middle/lower``, ``rsi_14``, ``emas``) on
    the candles' index.
    """
    _require_columns(candles, ["close"], "indicators_figure (candles)")
    needed = ["bollinger_upper", "bollinger_middle", "bollinger_lower", "rsi_14", *emas]
    _require_columns(indicators, needed, "indicators_figure (indicators)")
    _require_rows(indicators, "indicators_figure (indicators)")
    ind = indicators.reindex(candles.index) if not indicators.index.equals(candles.index) else indicators
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.04, row_heights=[0.7, 0.3])
    x = epoch_ms(candles.index)
    fig.add_trace(go.Scatter(x=x, y=ind["bollinger_upper"], mode="lines", name="Bollinger upper",
                             line={"width": 1, "color": "rgba(100,100,100,0.6)"}), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=ind["bollinger_lower"], mode="lines", name="Bollinger lower",
                             line={"width": 1, "color": "rgba(100,100,100,0.6)"}, fill="tonexty",
                             fillcolor="rgba(120,120,120,0.1)"), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=ind["bollinger_middle"], mode="lines", name="Bollinger middle",
                             line={"width": 1, "dash": "dot", "color": "grey"}), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=candles["close"], mode="lines", name="close",
                             line={"color": "#1e88e5"}), row=1, col=1)
    for col in emas:
        fig.add_trace(go.Scatter(x=x, y=ind[col], mode="lines", name=col.upper().replace("_", " ")),
                      row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=ind["rsi_14"], mode="lines", name="RSI 14",
                             line={"color": "#8e24aa"}), row=2, col=1)
    for level in (30, 70):
        fig.add_hline(y=level, line_dash="dash", line_color="grey", row=2, col=1)
    fig.update_yaxes(title_text="KRW", row=1, col=1)
    fig.update_yaxes(title_text="RSI", range=[0, 100], row=2, col=1)
    fig.update_layout(template=_TEMPLATE, title=title or "Indicators", height=650, hovermode="x unified")
    fig.update_xaxes(type="date")  # KST wall clock (epoch_ms)
    return fig


def trades_on_price(prices: pd.DataFrame, trades: pd.DataFrame, *, symbol: str | None = None,
                    title: str | None = None) -> go.Figure:
    """Price (candlesticks, or a close line) with entry (▲) and exit (▼) markers of ``trades``, both
    coloured by the trade's P/L (green won, red lost).

    ``trades`` has the columns of a backtest's trade list (``symbol entry_time exit_time entry_price
    exit_price pnl status``); with ``symbol`` only that symbol's trades are drawn. Open trades have
    no exit marker.
    """
    _require_columns(prices, ["close"], "trades_on_price (prices)")
    _require_rows(prices, "trades_on_price (prices)")
    _require_columns(trades, ["entry_time", "exit_time", "entry_price", "exit_price", "pnl"]
                     + (["symbol"] if symbol is not None else []), "trades_on_price (trades)")
    if symbol is not None:
        trades = trades[trades["symbol"] == symbol]
    name = symbol or "price"
    fig = _figure(title or f"{name}: trades", hovermode="closest", yaxis_title="KRW",
                  xaxis_rangeslider_visible=False, xaxis_type="date")
    fig.add_trace(_price_trace(prices, name))
    entry_time = pd.to_datetime(trades["entry_time"], utc=True)
    exit_time = pd.to_datetime(trades["exit_time"], utc=True)
    pnl = trades["pnl"].astype(float).to_numpy()
    colour = np.where(pnl > 0, _UP, np.where(pnl < 0, _DOWN, "#90a4ae"))
    status = (trades["status"].astype(str).to_numpy() if "status" in trades.columns
              else np.where(exit_time.notna(), "closed", "open"))
    pnl_text = np.array([f"{p:+,.0f}" + (" open" if s == "open" else "") for p, s in zip(pnl, status, strict=True)],
                        dtype=object)
    fig.add_trace(go.Scatter(
        x=epoch_ms(entry_time), y=trades["entry_price"].astype(float), mode="markers", name="entry",
        marker={"symbol": "triangle-up", "size": 11, "color": colour, "line": {"width": 1, "color": "black"}},
        customdata=pnl_text, hovertemplate="entry %{x|%Y-%m-%d %H:%M} KST<br>%{y:,} KRW<br>"
                                           "trade PnL ₩%{customdata}<extra></extra>"))
    closed = (exit_time.notna() & (status != "open")).to_numpy()
    fig.add_trace(go.Scatter(
        x=epoch_ms(exit_time[closed]), y=trades["exit_price"].astype(float)[closed], mode="markers", name="exit",
        marker={"symbol": "triangle-down", "size": 11, "color": colour[closed],
                "line": {"width": 1, "color": "black"}},
        customdata=pnl_text[closed], hovertemplate="exit %{x|%Y-%m-%d %H:%M} KST<br>%{y:,} KRW<br>"
                                                   "PnL ₩%{customdata}<extra></extra>"))
    return fig


# -- sweeps and run comparisons -----------------------------------------------------------------------

_HEATMAP_AGGS: Final[dict[str, Literal["max", "mean", "min", "median"]]] = {
    "max": "max", "mean": "mean", "min": "min", "median": "median"}


def sweep_heatmap(table: pd.DataFrame, x: str, y: str, metric: str, *, agg: str = "max",
                  title: str | None = None) -> go.Figure:
    """Heatmap of ``metric`` over two swept parameters ``x`` and ``y``.

    When other parameters vary too, each cell shows the ``agg`` (``max``, ``mean``, ``min``, ``median``)
    of ``metric`` over them.
    """
    _require_columns(table, [x, y, metric], "sweep_heatmap")
    _require_rows(table, "sweep_heatmap")
    if x == y:
        raise ValidationError(f"sweep_heatmap: x and y are both {x!r}; choose two different parameters")
    if agg not in _HEATMAP_AGGS:
        raise ValidationError(f"sweep_heatmap: agg must be one of max, mean, min, median (got {agg!r})")
    grid = (table.pivot_table(index=y, columns=x, values=metric, aggfunc=_HEATMAP_AGGS[agg])
            .sort_index().sort_index(axis=1))
    z = grid.to_numpy(dtype=float)
    name = metric_title(metric)
    text = [["" if not math.isfinite(v) else format_metric(metric, v) for v in row] for row in z]
    fig = _figure(title or f"{name} by {x} and {y}" + (f" ({agg} over other parameters)"
                                                         if table.duplicated([x, y]).any() else ""),
                  hovermode="closest", xaxis_title=x, yaxis_title=y)
    fig.add_trace(go.Heatmap(
        x=[str(v) for v in grid.columns], y=[str(v) for v in grid.index], z=z, text=text,
        texttemplate="%{text}", colorscale="RdYlGn", colorbar={"title": {"text": name}},
        hovertemplate=f"{x} %{{x}}, {y} %{{y}}: %{{text}}<extra>{name}</extra>",
    ))
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category")
    return fig


def _run_labels(runs: pd.DataFrame) -> list[str]:
    ids = runs["id"] if "id" in runs.columns else pd.Series(runs.index, index=runs.index)
    parts = [f"#{i}" for i in ids]
    strategy = "strategy" if "strategy" in runs.columns else "strategy_name"
    for col in (strategy, "symbol", "timeframe"):
        if col in runs.columns:
            parts = [f"{p} {v}" for p, v in zip(parts, runs[col].astype(str), strict=True)]
    return parts


def runs_comparison_figure(runs: pd.DataFrame, metrics: Sequence[str], *,
                           title: str = "Runs compared") -> go.Figure:
    """One bar chart panel per metric, one bar per run (labelled ``#id strategy symbol timeframe``).

    ``runs`` is ``Workbench.runs()`` or a frame of ``Workbench.run()`` dicts.

    Rates (returns, drawdown, win rate) are shown in percent.
    """
    if isinstance(metrics, str) or not metrics:
        raise ValidationError("runs_comparison_figure: give a non-empty list of metric names")
    _require_columns(runs, metrics, "runs_comparison_figure")
    _require_rows(runs, "runs_comparison_figure")
    labels = _run_labels(runs)
    fig = make_subplots(rows=len(metrics), cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=[metric_title(m) for m in metrics])
    bench = (pd.to_numeric(runs["benchmark_return"], errors="coerce").astype(float)
             if "benchmark_return" in runs.columns else None)
    for i, metric in enumerate(metrics, start=1):
        values = pd.to_numeric(runs[metric], errors="coerce").astype(float).replace([np.inf, -np.inf], np.nan)
        if metric.endswith("drawdown"):  # one sign convention: a drawdown is a loss, drawn below zero
            values = -values.abs()
        pct = _is_rate(metric)
        y = values.to_numpy() * (100.0 if pct else 1.0)
        fig.add_trace(go.Bar(x=labels, y=y, name=metric_title(metric), showlegend=False,
                             marker_color=np.where(np.nan_to_num(y) >= 0, _UP, _DOWN),
                             text=["" if not math.isfinite(v) else format_metric(metric, v) for v in values],
                             textposition="auto", hovertemplate="%{x}: %{text}<extra></extra>"), row=i, col=1)
        if metric == "total_return" and bench is not None and bench.notna().any():
            fig.add_trace(go.Scatter(x=labels, y=bench.to_numpy() * 100.0, mode="markers", name="buy & hold",
                                     marker={"symbol": "line-ew-open", "size": 36, "color": "#37474f",
                                             "line": {"width": 3}},
                                     text=[format_metric("benchmark_return", v) for v in bench],
                                     hovertemplate="buy & hold %{text}<extra></extra>"), row=i, col=1)
        if pct:
            fig.update_yaxes(ticksuffix="%", row=i, col=1)
    fig.update_layout(template=_TEMPLATE, title=title, height=max(300, 220 * len(metrics)),
                      hovermode="closest", showlegend=bool(bench is not None and bench.notna().any()),
                      legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1.0, "xanchor": "right"})
    return fig


def _is_rate(metric: str) -> bool:
    return metric.endswith(("_return", "drawdown", "win_rate"))


def walk_forward_figure(folds: pd.DataFrame, metric: str = "sharpe_ratio", *,
                        title: str | None = None) -> go.Figure:
    """In-sample vs out-of-sample ``metric`` per walk-forward fold (``WalkForwardResult.folds``: columns
    ``fold``, ``is_<metric>``, ``oos_<metric>``)."""
    _require_columns(folds, ["fold", f"is_{metric}", f"oos_{metric}"], "walk_forward_figure")
    _require_rows(folds, "walk_forward_figure")
    labels = [f"fold {f}" for f in folds["fold"]]
    fig = _figure(title or f"Walk-forward: {metric_title(metric)} in sample vs out of sample",
                  hovermode="x unified", barmode="group", yaxis_title=metric_title(metric))
    fig.add_trace(go.Bar(x=labels, y=folds[f"is_{metric}"].astype(float), name="in sample",
                         marker_color="#90a4ae"))
    fig.add_trace(go.Bar(x=labels, y=folds[f"oos_{metric}"].astype(float), name="out of sample",
                         marker_color="#1e88e5"))
    return fig
