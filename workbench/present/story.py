"""The parts of a backtest report that tell its story: title, KPI block (with buy & hold), worst
drawdowns, formatted trade list, data provenance and quality, stored run and manifest, and the report's
index metadata. The figures of a run are in :mod:`workbench.present.result_figures`.

Pure: a :class:`~workbench.core.backtest.BacktestResult` and price frames in, strings, frames and figures out.
Numbers are formatted by :mod:`workbench.present.formatting` (``+5.12%``, ``₩1,234,567``); times of trades are
shown in KST with the zone named.

>>> from workbench.present import report_header, trade_table  # doctest: +SKIP
>>> report_header(result)                     # doctest: +SKIP
>>> trade_table(result.trades)                # doctest: +SKIP
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from workbench.core.markets import SAMPLE_LABEL, is_synthetic
from workbench.core.quality import quality_report
from workbench.errors import ValidationError
from workbench.present.formatting import (
    MISSING,
    format_cell,
    format_count,
    format_metric,
    format_param_value,
    format_params,
    format_pct,
    format_price,
    format_time_kst,
    metric_short,
    metric_title,
)
from workbench.present.result_figures import drawdown_periods

if TYPE_CHECKING:
    from workbench.core.backtest import BacktestResult
    from workbench.core.quality import QualityReport

__all__ = [
    "KPI_KEYS",
    "REPORT_MIMETYPE",
    "HtmlBlock",
    "data_summary",
    "export_result",
    "formatted",
    "full_table",
    "indicator_title",
    "indicators_table",
    "kpis",
    "manifest_table",
    "matching_run",
    "metrics_table",
    "quality_section",
    "report_header",
    "report_heading",
    "report_title",
    "results_table",
    "strategy_label",
    "trade_table",
    "versus_benchmark",
    "window_text",
    "worst_drawdowns_table",
]

#: the custom output type through which a report notebook hands its title and KPIs to the index
REPORT_MIMETYPE: Final = "application/vnd.workbench.report+json"
#: the KPI block's metrics, in order
KPI_KEYS: Final = ("total_return", "benchmark_return", "excess_return", "annual_return", "max_drawdown",
                   "sharpe_ratio", "sortino_ratio", "win_rate", "profit_factor", "total_trades", "total_pnl")
_UP, _DOWN, _NEUTRAL = "#26a69a", "#ef5350", "#546e7a"
_TEMPLATE: Final = "plotly_white"


@dataclass(frozen=True)
class HtmlBlock:
    """HTML that displays itself in a notebook (and in the report) and carries report metadata."""

    html: str
    metadata: dict[str, Any] = field(default_factory=dict)

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"HtmlBlock({len(self.html):,} characters of HTML)"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle: dict[str, Any] = {"text/html": self.html}
        if self.metadata:
            bundle[REPORT_MIMETYPE] = self.metadata
        return bundle

    def __str__(self) -> str:
        return self.html


# -- names ---------------------------------------------------------------------------------------------

def strategy_label(result: BacktestResult) -> str:
    """``EmaCross(fast=8, slow=21)``."""
    params = ", ".join(f"{k}={v}" for k, v in result.params.items())
    return f"{result.strategy_name}({params})"


def _period(start: pd.Timestamp, end: pd.Timestamp) -> str:
    days = (end - start) / pd.Timedelta(days=1)
    return f"{window_text(start, end)} ({days:,.0f} days)"


def window_text(start: object, end: object) -> str:
    """A window in KST, like every time of a report: ``2025-01-01 09:00 → 2025-03-01 09:00 KST``; ``start``
    and ``end`` are instants or text (a date alone, as report parameters give it, is midnight UTC).

    >>> window_text("2025-01-01", "2025-03-01")
    '2025-01-01 09:00 → 2025-03-01 09:00 KST'
    """
    a, b = (format_time_kst(pd.Timestamp(t, tz="UTC") if isinstance(t, str) else t) for t in (start, end))
    return f"{a.removesuffix(' KST')} → {b}"


def report_title(result: BacktestResult) -> str:
    """``EmaCross(fast=8, slow=21) on KRW-BTC, KRW-ETH · 1h · 2025-01-01 09:00 → 2025-03-01 08:00 KST (59
    days)``."""
    return (f"{strategy_label(result)} on {', '.join(result.symbols)} · {result.timeframe} · "
            f"{_period(result.start, result.end)}")


# -- benchmark and KPIs ------------------------------------------------------------------------------

def kpis(result: BacktestResult) -> dict[str, float]:
    """The run's metrics that are numbers (``benchmark_return``: buy & hold of the same symbols)."""
    return {k: float(v) for k, v in result.metrics.to_dict().items() if isinstance(v, int | float)}


def _tone(key: str, value: float) -> str:
    if key in ("max_drawdown", "total_trades", "win_rate", "annual_return") or not math.isfinite(value):
        return ""
    if key in ("sharpe_ratio", "sortino_ratio", "profit_factor"):
        value = value - (1.0 if key == "profit_factor" else 0.0)
    return "up" if value > 0 else "down" if value < 0 else ""


_CSS: Final = """<style>
.wb-report h1{font-size:1.6em;margin:.2em 0}
.wb-sub{color:#546e7a;margin:.2em 0 .8em}
.wb-synthetic{background:#ffebee;border:1px solid #b71c1c;color:#b71c1c;padding:.4em .8em;margin:.5em 0;
 font-weight:bold}
.wb-kpis{display:flex;flex-wrap:wrap;gap:.6em;margin:.6em 0}
.wb-kpi{border:1px solid #cfd8dc;border-radius:6px;padding:.45em .8em;min-width:8.5em;background:#fafafa}
.wb-kpi .v{font-size:1.35em;font-weight:600;white-space:nowrap}
.wb-kpi .k{font-size:.8em;color:#607d8b}
.wb-kpi .v.up{color:#00796b}.wb-kpi .v.down{color:#c62828}
</style>"""


def _benchmark_text(result: BacktestResult) -> str:
    """What the run is compared with, and the risk-free rate when there is one."""
    kind = result.config.benchmark
    text = ("buy & hold = the same symbols, equal weights" if kind == "equal-weight" else
            "no benchmark" if kind == "none" else f"buy & hold = {kind}")
    rate = result.config.risk_free_rate
    return text if rate == 0 else f"{text} · risk-free rate {format_pct(rate, sign=False)} a year"


def report_header(result: BacktestResult, *, keys: Sequence[str] = KPI_KEYS,
                  backtest_id: int | None = None) -> HtmlBlock:
    """Title, period, data notice and the KPI block of a run, as HTML; also hands the title and the
    headline KPIs to the reports index (``REPORT_MIMETYPE``)."""
    values = kpis(result)
    cards = []
    for key in keys:
        if key not in values:
            continue
        value = values[key]
        cards.append(f'<div class="wb-kpi"><div class="v {_tone(key, value)}">'
                     f"{html.escape(format_metric(key, value))}</div>"
                     f'<div class="k">{html.escape(metric_title(key))}</div></div>')
    synthetic = any(is_synthetic(s) for s in result.symbols)
    notice = f'<div class="wb-synthetic">⚠ {html.escape(SAMPLE_LABEL)}</div>' if synthetic else ""
    title = report_title(result)
    capital = format_metric("initial_capital", result.config.initial_capital)
    sub = (f"{html.escape(result.strategy_type)} · capital {capital}"
           f" · fee {format_pct(result.config.fee_rate, sign=False)} and slippage "
           f"{format_pct(result.config.slippage, sign=False)} per side · {_benchmark_text(result)}")
    body = (f'{_CSS}<div class="wb-report"><h1>{html.escape(strategy_label(result))} on '
            f"{html.escape(', '.join(result.symbols))}</h1>"
            f'<div class="wb-sub">{html.escape(result.timeframe)} bars · '
            f"{html.escape(_period(result.start, result.end))}<br>{sub}</div>{notice}"
            f'<div class="wb-kpis">{"".join(cards)}</div></div>')
    meta = {"title": title, "strategy": result.strategy_name, "symbols": list(result.symbols),
            "timeframe": result.timeframe, "start": result.start.isoformat(), "end": result.end.isoformat(),
            "synthetic": synthetic, "backtest_id": backtest_id,
            "kpis": {k: values[k] for k in ("total_return", "benchmark_return", "max_drawdown", "sharpe_ratio",
                                            "total_trades") if k in values and math.isfinite(values[k])}}
    return HtmlBlock(body, meta)


# -- tables ------------------------------------------------------------------------------------------

def full_table(frame: pd.DataFrame | pd.Series, *, index: bool | None = None, wrap: bool = False) -> HtmlBlock:
    """``frame`` as an HTML table with every row and every character (a notebook truncates long frames
    and cells); the report lets a wide one scroll sideways. An empty frame says "none"; the index is
    shown unless it is an unnamed 0..n-1 range (``index`` decides otherwise). ``wrap``: long cells
    (manifests) wrap within the page instead of pushing the table sideways."""
    if isinstance(frame, pd.Series):
        frame = frame.to_frame()
    if frame.empty:
        return HtmlBlock('<p class="wb-none"><em>none</em></p>')
    if index is None:
        index = not (isinstance(frame.index, pd.RangeIndex) and frame.index.name is None)
    if index and frame.index.name is not None and frame.columns.name is None and frame.columns.nlevels == 1:
        # the index's name in the header's corner: one header row, not a second one holding only that name
        name = str(frame.index.name)
        frame = frame.copy()
        frame.index.name, frame.columns.name = None, name
    with pd.option_context("display.max_colwidth", None):
        table = frame.to_html(max_rows=None, max_cols=None, border=0, classes="dataframe wb-table", na_rep=MISSING,
                              index=index)
    head, body, rest = table.partition("<tbody>")
    table = head + body + _CELL.sub(_unbroken_cell, rest)
    if wrap:
        table = table.replace(' wb-table"', ' wb-table wb-table-wrap"', 1)
    return HtmlBlock(f'{_TABLE_CSS}<div class="wb-table-box">{table}</div>')


#: tables take the page's width, not more: headers and text wrap between words (numbers have no spaces, so
#: they never break); ``wb-table-wrap`` cells (hashes, ids) may break anywhere
_TABLE_CSS: Final = ("<style>.wb-table-box{max-width:100%;overflow-x:auto}"
                     ".jp-RenderedHTMLCommon .wb-table th,.jp-RenderedHTMLCommon .wb-table td,.wb-table th,.wb-table td"
                     "{white-space:normal;padding:.35em .5em}"
                     ".wb-table-box .wb-table-wrap td{overflow-wrap:anywhere;min-width:5em;text-align:left}"
                     ".jp-RenderedHTMLCommon .wb-table .wb-nw,.wb-table .wb-nw{white-space:nowrap}</style>")
_CELL: Final = re.compile(r"<(td|th)>([^<]*)</\1>")
#: a short word with a digit or a hyphen: a number, an amount, a time, a symbol
_TOKEN: Final = re.compile(r"(?<!\S)(?=\S*[-\d])\S{1,24}(?!\S)")


def _unbroken_cell(m: re.Match[str]) -> str:
    """A table cell whose numbers, amounts, times and symbols never break (a line may otherwise break after
    a hyphen, as in ``-₩50,751`` or ``KRW-SYNBTC``): a cell of one such word is kept whole, in a longer text
    each one is; the text still wraps between words."""
    tag, text = m.group(1), m.group(2)
    word = text.strip()
    if word and len(word) <= 24 and not any(c.isspace() for c in word):
        return f'<{tag} class="wb-nw">{text}</{tag}>'
    kept = _TOKEN.sub(lambda t: '<span class="wb-nw">' + t.group(0) + "</span>", text)
    return f"<{tag}>{kept}</{tag}>"


def worst_drawdowns_table(equity: pd.Series, top: int = 5, *, initial: float | None = None) -> pd.DataFrame:
    """:func:`~workbench.present.result_figures.drawdown_periods` formatted for people (KST times; ``not
    recovered`` where it is so)."""
    periods = drawdown_periods(equity, top, initial=initial)
    return pd.DataFrame({
        "#": range(1, len(periods) + 1),
        "peak (KST)": [format_time_kst(t) for t in periods["start"]],
        "valley (KST)": [format_time_kst(t) for t in periods["valley"]],
        "recovered (KST)": [format_time_kst(t) if ok else "not recovered"
                            for t, ok in zip(periods["end"], periods["recovered"], strict=True)],
        "depth": [format_pct(v) for v in periods["depth"]],
        "days": [f"{v:,.1f}" for v in periods["days"]],
    }).set_index("#")


def trade_table(trades: pd.DataFrame, max_rows: int | None = None) -> pd.DataFrame:
    """The trade list for people: KST times, prices with the decimals they need, KRW with separators,
    returns in percent; open trades say so (their exit is the last close). With ``max_rows``, a longer
    list keeps its first and last ``max_rows // 2`` trades (numbered as in the full list)."""
    needed = ["symbol", "entry_time", "exit_time", "size", "entry_price", "exit_price", "fees", "pnl", "ret"]
    missing = [c for c in needed if c not in trades.columns]
    if missing:
        raise ValidationError(f"trade_table: missing column(s) {missing} (has {list(trades.columns)})")
    numbers: pd.Index = pd.RangeIndex(1, len(trades) + 1, name="#")
    if max_rows is not None and len(trades) > max_rows:
        keep = np.r_[0:max_rows // 2, len(trades) - (max_rows - max_rows // 2):len(trades)].astype(np.int64)
        trades, numbers = trades.iloc[keep], numbers[keep]
    status = trades["status"] if "status" in trades.columns else pd.Series("closed", index=trades.index)
    reason = trades["exit_reason"] if "exit_reason" in trades.columns else pd.Series("", index=trades.index)
    return pd.DataFrame({
        "symbol": [str(s) for s in trades["symbol"]],
        "entry (KST)": [format_time_kst(t) for t in trades["entry_time"]],
        "exit (KST)": [format_time_kst(t) if s != "open" else "open"
                       for t, s in zip(trades["exit_time"], status, strict=True)],
        "size": [format_price(v) for v in trades["size"]],
        "entry price": [format_price(v) for v in trades["entry_price"]],
        "exit price": [format_price(v) + (" (last)" if s == "open" else "")
                       for v, s in zip(trades["exit_price"], status, strict=True)],
        "fees": [format_metric("fees", v) for v in trades["fees"]],
        "PnL": [format_metric("pnl", v) for v in trades["pnl"]],
        "return": [format_pct(v) for v in trades["ret"]],
        "exit reason": [str(r).replace("_", " ") if isinstance(r, str) and r else MISSING for r in reason],
    }, index=numbers)


#: the tables of a quality report, and their titles
_QUALITY_TABLES: Final = {"gaps": "Gaps", "duplicates": "Duplicate timestamps", "zero_volume_runs": "Zero-volume runs",
                          "price_jumps": "Price jumps", "bad_bars": "Bad bars (OHLC out of order)"}


def quality_section(report: QualityReport, max_rows: int = 20) -> HtmlBlock:
    """A :class:`~workbench.core.quality.QualityReport` for people: its summary, then each of its tables
    (first ``max_rows`` rows, formatted, KST times) or "none"."""
    parts = [full_table(formatted(pd.Series(report.summary(), name="value").rename_axis("check"))).html]
    for name, title in _QUALITY_TABLES.items():
        table = getattr(report, name)
        more = f" (first {max_rows} of {len(table):,})" if len(table) > max_rows else ""
        parts.append(f"<h4>{html.escape(title)}{more}</h4>" + full_table(formatted(table.head(max_rows))).html)
    return HtmlBlock("".join(parts))


#: indicator name parts written in capitals
_ABBREVIATIONS: Final = frozenset({"ma", "ema", "sma", "rsi", "macd", "cci", "atr", "obv", "vwap", "adx"})


def indicator_title(name: str) -> str:
    """An indicator column for people: ``rsi_14`` -> ``RSI 14``, ``bollinger_upper`` -> ``Bollinger upper``,
    ``stochastic_k`` -> ``Stochastic %K``.

    >>> [indicator_title(n) for n in ("ma_5", "volume_ma_20", "macd_signal", "stochastic_d", "obv")]
    ['MA 5', 'Volume MA 20', 'MACD signal', 'Stochastic %D', 'OBV']
    """
    parts = name.split("_")
    words = [p.upper() if p in _ABBREVIATIONS else f"%{p.upper()}" if p in ("k", "d") and i else p
             for i, p in enumerate(parts)]
    return " ".join(words)[:1].upper() + " ".join(words)[1:]


def indicators_table(indicators: pd.DataFrame, last: int = 5) -> pd.DataFrame:
    """The last ``last`` bars of an indicator table, one row per indicator (titled), one column per bar
    (KST); values formatted as prices (``–`` before an indicator's warm-up is over)."""
    tail = indicators.tail(last)
    return pd.DataFrame({format_time_kst(t): [format_price(v) for v in tail.loc[t]] for t in tail.index},
                        index=pd.Index([indicator_title(str(c)) for c in tail.columns], name="indicator"))


def data_summary(frames: Mapping[str, pd.DataFrame], timeframe: str) -> pd.DataFrame:
    """Where each symbol's data came from and its quality over exactly these frames (the window tested):
    bars, first/last bar in KST, gaps (missing bars), zero-volume runs, price jumps, bad bars."""
    rows = []
    for symbol, frame in frames.items():
        q = quality_report(frame, timeframe, symbol=symbol)
        rows.append({
            "symbol": symbol,
            "source": "SYNTHETIC sample" if is_synthetic(symbol) else "Bithumb market data",
            "bars": format_count(q.rows),
            "first bar (KST)": format_time_kst(q.first), "last bar (KST)": format_time_kst(q.last),
            "gaps (missing bars)": f"{len(q.gaps):,} ({q.missing_bars:,})",
            "zero-volume runs": format_count(len(q.zero_volume_runs)),
            "price jumps": format_count(len(q.price_jumps)),
            "bad or duplicate bars": format_count(len(q.bad_bars) + len(q.duplicates)),
        })
    return pd.DataFrame(rows).set_index("symbol")


# -- notebook helpers --------------------------------------------------------------------------------

def export_result(result: BacktestResult, path: str | Path, what: str = "trades") -> Path:
    """Write a run's ``trades`` or ``equity`` (columns equity, benchmark = buy & hold, drawdown) to
    ``path``: ``.csv`` or ``.parquet`` by the suffix. Times stay UTC (ISO 8601 in CSV). Returns the path.
    """
    target = Path(path)
    if what == "trades":
        frame = result.trades.copy()
    elif what == "equity":
        frame = pd.DataFrame({"equity": result.equity, "benchmark": result.benchmark,
                              "drawdown": result.drawdown})
    else:
        raise ValidationError(f"export_result: what must be 'trades' or 'equity' (got {what!r})")
    suffix = target.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ValidationError(f"export_result: {target} must end in .csv or .parquet")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        if suffix == ".csv":
            frame.to_csv(tmp, index=what == "equity", date_format="%Y-%m-%dT%H:%M:%S%z")
        else:
            frame.to_parquet(tmp, index=what == "equity")
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def matching_run(runs: pd.DataFrame, result: BacktestResult) -> int | None:
    """The id of the newest stored run (``Workbench.runs()``) of the same strategy, parameters, risk,
    symbols, timeframe, initial capital and data fingerprint as ``result`` (a report that re-runs a
    stored backtest without storing it again), else None. Fee and slippage are not in the runs list and
    are not compared."""
    needed = ["id", "strategy", "timeframe", "data_fingerprint", "parameters"]
    if runs.empty or any(c not in runs.columns for c in needed):
        return None
    row: Any   # a stored run's row (itertuples: attributes of mixed types)
    for row in runs.sort_values("id", ascending=False).itertuples(index=False):
        params = row.parameters if isinstance(row.parameters, dict) else {}
        capital = getattr(row, "initial_capital", result.config.initial_capital)
        if (row.strategy == result.strategy_name and row.timeframe == result.timeframe
                and math.isclose(float(capital), float(result.config.initial_capital))
                and row.data_fingerprint == result.data_fingerprint
                and params.get("params") == _jsonable(result.params)
                and params.get("risk", result.risk) == _jsonable(result.risk)
                and params.get("symbols", list(result.symbols)) == list(result.symbols)):
            return int(row.id)
    return None


def _jsonable(value: Any) -> Any:
    """As it comes back from a JSON column (numpy scalars as Python values)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value.item() if isinstance(value, np.generic) else value


def manifest_table(run: Mapping[str, object]) -> pd.DataFrame:
    """A stored run (``Workbench.run(id)``) as ``field | value`` rows: ids, strategy class, parameters,
    data fingerprint and rows, git commit, package versions."""
    def text(value: Any) -> str:
        if isinstance(value, dict):
            return format_params(value)
        if isinstance(value, list):
            return ", ".join(text(v) for v in value) or MISSING
        return MISSING if value is None else str(value)

    fields = [("backtest_results.id", run.get("id")), ("strategy id", run.get("strategy_id")),
              ("run id", run.get("run_id")), ("sweep id", run.get("sweep_id")), ("split", run.get("split")),
              ("strategy class", run.get("strategy_class"))]
    params = run.get("parameters") or {}
    if isinstance(params, dict):
        fields += [(f"parameters: {k}", v) for k, v in params.items()]
    fields += [("backtest config", run.get("backtest_config")), ("data fingerprint", run.get("data_fingerprint")),
               ("data rows", run.get("data_rows")), ("git commit", run.get("git_commit")),
               ("package versions", run.get("package_versions")),
               ("stored at (KST)", format_time_kst(run.get("created_at")))]
    return pd.DataFrame({"value": [text(v) for _, v in fields]}, index=pd.Index([k for k, _ in fields],
                                                                                name="manifest"))


def formatted(frame: pd.DataFrame | pd.Series, *, titles: bool = True) -> pd.DataFrame:
    """``frame`` with every cell as text for people (:func:`workbench.present.formatting.format_cell`: numbers by
    their column's metric unit, ``+5.12%``, ``₩1,234``, ``1.23``; times in KST; parameter dicts as
    ``k=v``) and, with ``titles``, columns titled for people (``sharpe_ratio`` -> ``Sharpe``); the index
    is kept. A Series of named values (``metric -> value``) becomes a ``value`` column, each formatted by
    its name."""
    def cell(column: str, value: Any) -> str:
        if isinstance(value, float) and math.isnan(value):
            return MISSING
        if isinstance(value, np.datetime64):
            value = pd.Timestamp(value, tz="UTC")
        return format_cell(column, value)

    if isinstance(frame, pd.Series):
        return pd.DataFrame({"value": [cell(str(k), v) for k, v in frame.items()]},
                            index=pd.Index([metric_title(str(k)) for k in frame.index], name=frame.index.name))
    def header(c: Any) -> Any:
        if isinstance(c, pd.Timestamp):  # a transposed frame's times
            return format_time_kst(c)
        return metric_title(str(c)) if titles else c

    return pd.DataFrame({header(c): [cell(str(c), v) for v in frame[c]] for c in frame.columns},
                        index=frame.index)


def results_table(table: pd.DataFrame, params: Sequence[str], metric: str, *, top: int | None = None) -> pd.DataFrame:
    """A sweep's (or study's) results for people: a rank column, the parameters, the ranking metric and
    the figures that matter (return, buy & hold, max drawdown, Sharpe, win rate, trades) formatted and
    titled; ``top`` keeps the first rows. ``table`` is already ranked."""
    wanted = [*params, metric, "total_return", "benchmark_return", "excess_return", "max_drawdown", "sharpe_ratio",
              "win_rate", "total_trades"]
    columns = list(dict.fromkeys(c for c in wanted if c in table.columns))
    shown = table[columns] if top is None else table[columns].head(top)
    out = formatted(shown.reset_index(drop=True))
    for p in params:  # swept parameters come back as floats: 5.0 -> 5
        if p in shown.columns:
            out[metric_title(p)] = [format_param_value(v) for v in shown[p]]
    out.index = pd.RangeIndex(1, len(out) + 1, name="rank")
    return out


def versus_benchmark(total_returns: Mapping[str, float], benchmark_return: float, *, best: str,
                     ranked_by: str = "sharpe_ratio") -> str:
    """One honest sentence on the runs against their benchmark: when every one loses to it, it says so
    (no "best" without it); else how many beat it and which is best by ``ranked_by``.

    >>> versus_benchmark({"A": 0.02, "B": -0.01}, 0.25, best="A")
    'All 2 strategies lose to buy & hold (+25.00%); the least bad by Sharpe is A (+2.00%).'
    >>> versus_benchmark({"A": 0.30, "B": -0.01}, 0.25, best="A")
    '1 of 2 strategies beat buy & hold (+25.00%); the best by Sharpe is A (+30.00%).'
    """
    n = len(total_returns)
    title = metric_short(ranked_by)
    mine = format_pct(total_returns.get(best))
    if not math.isfinite(benchmark_return):
        return f"The best of {n} by {title} is {best} ({mine}); no benchmark to compare with."
    bench = format_pct(benchmark_return)
    winners = sum(1 for r in total_returns.values() if r > benchmark_return)
    noun = "strategy" if n == 1 else "strategies"
    if winners == 0:
        who = "It loses" if n == 1 else f"All {n} {noun} lose"
        return f"{who} to buy & hold ({bench}); the least bad by {title} is {best} ({mine})."
    return f"{winners} of {n} {noun} beat buy & hold ({bench}); the best by {title} is {best} ({mine})."


def metrics_table(result: BacktestResult) -> pd.DataFrame:
    """A run's metrics as ``value`` rows titled for people, formatted by unit."""
    values = result.metrics.to_dict()
    return pd.DataFrame({"value": [format_metric(k, v) for k, v in values.items()]},
                        index=pd.Index([metric_title(k) for k in values], name="metric"))


def report_heading(title: str, *, subtitle: str = "", symbols: Sequence[str] = (),
                   kpis: Mapping[str, object] | None = None, headline: str = "", backtest_ids: Sequence[int] = (),
                   paper_run_ids: Sequence[int] = ()) -> HtmlBlock:
    """A report's title (and subtitle, the one-line ``headline`` in bold, and the SYNTHETIC notice when
    any of ``symbols`` is sample data) as HTML; hands the title, the headline and the numeric ``kpis``
    (``total_return``, ``benchmark_return``, ``max_drawdown``, ``sharpe_ratio``, ``total_trades``) to the
    reports index like :func:`report_header`, and the stored runs it shows (``backtest_ids``,
    ``paper_run_ids``: who may read it in the portal)."""
    synthetic = any(is_synthetic(s) for s in symbols)
    notice = f'<div class="wb-synthetic">⚠ {html.escape(SAMPLE_LABEL)}</div>' if synthetic else ""
    sub = f'<div class="wb-sub">{html.escape(subtitle)}</div>' if subtitle else ""
    lead = f'<p class="wb-headline"><b>{html.escape(headline)}</b></p>' if headline else ""
    body = f'{_CSS}<div class="wb-report"><h1>{html.escape(title)}</h1>{sub}{notice}{lead}</div>'
    clean = {k: float(v) for k, v in (kpis or {}).items()
             if isinstance(v, int | float | np.number) and not isinstance(v, bool) and math.isfinite(float(v))}
    return HtmlBlock(body, {"title": title, "synthetic": synthetic, "symbols": list(symbols), "kpis": clean,
                            "headline": headline, "backtest_ids": [int(i) for i in backtest_ids],
                            "paper_run_ids": [int(i) for i in paper_run_ids]})
