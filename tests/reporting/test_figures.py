"""Figures carry the data they are given (values, markers, labels) and reject malformed input."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from workbench.core.backtest import BacktestConfig, run_backtest
from workbench.core.strategies import EmaCross, Risk
from workbench.errors import ValidationError
from workbench.ingest.sample import SAMPLE_LABEL, generate_sample_candles
from workbench.present import (
    candles_figure,
    drawdown_figure,
    equity_figure,
    indicators_figure,
    label_figure,
    monthly_returns_heatmap,
    returns_histogram,
    runs_comparison_figure,
    sample_label,
    sample_notice,
    setup_plotly,
    sweep_heatmap,
    trades_on_price,
    walk_forward_figure,
)

IDX = pd.date_range("2025-01-01", periods=10, freq="1h", tz="UTC", name="ts")


def ohlcv(close: list[float] | np.ndarray, index: pd.DatetimeIndex = IDX) -> pd.DataFrame:
    close = np.asarray(close, dtype=float)
    open_ = np.concatenate([[close[0]], close[:-1]])
    return pd.DataFrame({"open": open_, "high": np.maximum(open_, close) + 1, "low": np.minimum(open_, close) - 1,
                         "close": close, "volume": np.arange(1.0, len(close) + 1)}, index=index[:len(close)])


@pytest.fixture(scope="module")
def sample_1h() -> pd.DataFrame:
    rows = generate_sample_candles({"KRW-SYNBTC": 95_000_000.0}, days=75, timeframe="1h")
    df = rows.rename(columns={"timestamp": "ts", "open_price": "open", "high_price": "high",
                              "low_price": "low", "close_price": "close"}).set_index("ts")
    return df[["open", "high", "low", "close", "volume"]]


def times(x: object) -> list[pd.Timestamp]:
    """Trace x values as UTC timestamps: ISO text (plotly's form of an index), or KST wall-clock epoch
    milliseconds (what the report figures draw on their date axes)."""
    values = pd.Series(list(x))  # type: ignore[call-overload]
    if pd.api.types.is_numeric_dtype(values):
        # the report figures' axes are a KST wall clock: 9 h ahead of the UTC epoch
        return list(pd.to_datetime(values - 9 * 3600 * 1000, unit="ms", utc=True))
    return list(pd.to_datetime(values, utc=True))


def trades() -> pd.DataFrame:
    return pd.DataFrame({
        "symbol": ["KRW-A", "KRW-B", "KRW-A"],
        "entry_time": [IDX[1], IDX[2], IDX[6]],
        "exit_time": [IDX[4], IDX[5], pd.NaT],
        "entry_price": [101.0, 50.0, 106.0],
        "exit_price": [104.0, 49.0, 109.0],
        "pnl": [30.0, -10.0, 30.0],
        "status": ["closed", "closed", "open"],
    })


# -- equity, drawdown --------------------------------------------------------------------------------

def test_equity_figure_one_line_per_curve() -> None:
    a = pd.Series([100.0, 110.0, 105.0], index=IDX[:3], name="equity")
    fig = equity_figure(a)
    assert len(fig.data) == 1 and list(fig.data[0].y) == [100.0, 110.0, 105.0]
    assert times(fig.data[0].x) == list(IDX[:3])
    # the axis is a KST wall clock: 2025-01-01 00:00 UTC is drawn at 09:00 (1735689600000 ms is 00:00 UTC)
    assert fig.data[0].x[0] == 1735689600000 + 9 * 3600 * 1000 and fig.layout.xaxis.type == "date"
    both = equity_figure({"#1 EmaCross": a, "#2 RsiReversion": a * 2}, title="compare")
    assert [t.name for t in both.data] == ["#1 EmaCross", "#2 RsiReversion"]
    assert list(both.data[1].y) == [200.0, 220.0, 210.0]
    assert both.layout.title.text == "compare" and both.layout.showlegend


def test_drawdown_figure_is_percent_below_running_peak() -> None:
    eq = pd.Series([100.0, 120.0, 90.0, 130.0, 117.0], index=IDX[:5])
    fig = drawdown_figure(eq)
    assert fig.data[0].y == pytest.approx([0.0, 0.0, -25.0, 0.0, -10.0])
    assert fig.layout.yaxis.ticksuffix == "%"


@pytest.mark.parametrize("bad", [pd.Series([], dtype=float), {}, {"x": [1, 2]}, [1.0, 2.0]])
def test_equity_figures_reject_bad_input(bad: object) -> None:
    with pytest.raises(ValidationError):
        equity_figure(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):  # ValidationError is a ValueError
        drawdown_figure(bad)  # type: ignore[arg-type]


# -- monthly returns ---------------------------------------------------------------------------------

def test_monthly_heatmap_z_is_returns_in_percent_on_a_year_by_month_grid() -> None:
    fig = monthly_returns_heatmap({"2025-01": 0.05, "2025-03": -0.02, "2026-02": 0.1})
    hm = fig.data[0]
    assert isinstance(hm, go.Heatmap)
    assert list(hm.y) == ["2025", "2026"] and len(hm.x) == 12 and hm.x[0] == "Jan"
    z = [list(row) for row in hm.z]
    assert z[0][0] == pytest.approx(5.0) and z[0][1] is None and z[0][2] == pytest.approx(-2.0)
    assert z[1][1] == pytest.approx(10.0) and all(v is None for v in z[1][2:])
    assert hm.text[0][0] == "+5.0%" and hm.text[0][1] == "" and hm.zmid == 0


def test_monthly_heatmap_of_a_backtest(sample_1h: pd.DataFrame) -> None:
    risk = Risk(stop_loss_pct=2.0, take_profit_pct=4.0, risk_per_trade=1.0, max_positions=1)
    result = run_backtest(sample_1h, EmaCross(fast=8, slow=21, risk=risk), BacktestConfig(), timeframe="1h",
                          symbol="KRW-SYNBTC")
    monthly = result.monthly_returns()
    assert list(monthly) == ["2025-01", "2025-02", "2025-03"]
    hm = monthly_returns_heatmap(monthly).data[0]
    z = np.array(hm.z, dtype=float)
    assert z.shape == (1, 3)  # the months in range only, not Jan-Dec
    assert list(hm.x) == ["Jan 2025", "Feb 2025", "Mar 2025"]
    assert z[0] == pytest.approx([100 * v for v in monthly.values()])


def test_monthly_heatmap_short_span_across_a_year_end_is_one_row() -> None:
    hm = monthly_returns_heatmap({"2024-11": 0.01, "2025-01": -0.03}).data[0]
    assert list(hm.x) == ["Nov 2024", "Dec 2024", "Jan 2025"] and list(hm.y) == ["return"]
    assert list(hm.z[0]) == [pytest.approx(1.0), None, pytest.approx(-3.0)]
    assert list(hm.text[0]) == ["+1.0%", "", "-3.0%"]


@pytest.mark.parametrize("bad, message", [
    ({}, "no monthly returns"),
    ({"2025-13": 0.1}, "'2025-13'"),
    ({"January": 0.1}, "'January'"),
    ({"2025-01": "5%"}, "2025-01"),
    ([0.1], "mapping"),
])
def test_monthly_heatmap_rejects_bad_input(bad: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        monthly_returns_heatmap(bad)  # type: ignore[arg-type]


# -- prices and trades -------------------------------------------------------------------------------

def test_trades_on_price_marks_entries_and_exits_of_the_symbol() -> None:
    prices = ohlcv([100.0 + i for i in range(10)])
    fig = trades_on_price(prices, trades(), symbol="KRW-A")
    price, entries, exits = fig.data
    assert isinstance(price, go.Candlestick) and list(price.close) == list(prices["close"])
    assert entries.name == "entry" and entries.marker.symbol == "triangle-up"
    assert times(entries.x) == [IDX[1], IDX[6]] and list(entries.y) == [101.0, 106.0]
    # the open trade has no exit marker
    assert times(exits.x) == [IDX[4]] and list(exits.y) == [104.0]
    assert list(exits.customdata) == ["+30"] and list(entries.customdata) == ["+30", "+30 open"]
    # coloured by the trade's P/L: both trades of KRW-A won (the open one marked at the last close)
    assert list(entries.marker.color) == ["#26a69a", "#26a69a"] and list(exits.marker.color) == ["#26a69a"]


def test_trades_on_price_colours_losers_red() -> None:
    fig = trades_on_price(ohlcv([100.0 + i for i in range(10)]), trades(), symbol="KRW-B")
    assert list(fig.data[1].marker.color) == ["#ef5350"] and list(fig.data[2].marker.color) == ["#ef5350"]


def test_trades_on_price_draws_a_line_without_ohlc_and_all_trades_without_symbol() -> None:
    prices = ohlcv([100.0 + i for i in range(10)])[["close"]]
    fig = trades_on_price(prices, trades())
    assert isinstance(fig.data[0], go.Scatter) and fig.data[0].mode == "lines"
    assert len(fig.data[1].x) == 3 and len(fig.data[2].x) == 2


def test_trades_on_price_accepts_stored_trade_history() -> None:
    """``Workbench.run(id)["trade_history"]`` holds ISO strings."""
    stored = pd.DataFrame([{"symbol": "KRW-A", "entry_time": IDX[1].isoformat(), "exit_time": None,
                            "entry_price": 101.0, "exit_price": 0.0, "pnl": 0.0, "status": "open"}])
    fig = trades_on_price(ohlcv([100.0 + i for i in range(10)]), stored, symbol="KRW-A")
    assert times(fig.data[1].x) == [IDX[1]] and len(fig.data[2].x) == 0


def test_trades_on_price_names_missing_columns() -> None:
    prices = ohlcv([100.0 + i for i in range(10)])
    with pytest.raises(ValidationError, match="exit_price"):
        trades_on_price(prices, trades().drop(columns="exit_price"))
    with pytest.raises(ValidationError, match="symbol"):
        trades_on_price(prices, trades().drop(columns="symbol"), symbol="KRW-A")
    with pytest.raises(ValidationError, match="close"):
        trades_on_price(prices.drop(columns="close"), trades())
    with pytest.raises(ValidationError, match="no rows"):
        trades_on_price(prices.iloc[:0], trades())


def test_candles_figure_has_candles_and_volume() -> None:
    df = ohlcv([100.0, 102.0, 101.0, 105.0])
    fig = candles_figure(df, symbol="KRW-BTC")
    candles, volume = fig.data
    assert isinstance(candles, go.Candlestick) and list(candles.high) == list(df["high"])
    assert isinstance(volume, go.Bar) and list(volume.y) == [1.0, 2.0, 3.0, 4.0]
    assert "KRW-BTC" in fig.layout.title.text
    assert len(candles_figure(df[["open", "high", "low", "close"]], volume=False).data) == 1
    with pytest.raises(ValidationError, match="low"):
        candles_figure(df.drop(columns="low"))


def test_returns_histogram_of_close_returns_in_percent() -> None:
    fig = returns_histogram(ohlcv([100.0, 110.0, 99.0]))
    assert fig.data[0].x == pytest.approx([10.0, -10.0])
    with pytest.raises(ValidationError, match="close"):
        returns_histogram(pd.DataFrame({"open": [1.0, 2.0, 3.0]}))
    with pytest.raises(ValidationError, match="at least"):
        returns_histogram(pd.Series([1.0, 2.0]))


def test_indicators_figure_panels() -> None:
    df = ohlcv([100.0 + i for i in range(10)])
    ind = pd.DataFrame({c: np.linspace(1, 2, 10) for c in ("bollinger_upper", "bollinger_middle",
                                                           "bollinger_lower", "rsi_14", "ema_21", "ema_50")},
                       index=df.index)
    fig = indicators_figure(df, ind)
    names = [t.name for t in fig.data]
    assert {"close", "RSI 14", "EMA 21", "EMA 50", "Bollinger upper", "Bollinger lower"} <= set(names)
    rsi = fig.data[names.index("RSI 14")]
    assert rsi.yaxis == "y2" and list(rsi.y) == list(ind["rsi_14"])
    with pytest.raises(ValidationError, match="rsi_14"):
        indicators_figure(df, ind.drop(columns="rsi_14"))


# -- sweeps and runs ---------------------------------------------------------------------------------

def test_sweep_heatmap_pivots_the_metric() -> None:
    table = pd.DataFrame({"fast": [5, 5, 8, 8], "slow": [21, 34, 21, 34], "sharpe_ratio": [0.1, 0.2, 0.3, -0.4]})
    hm = sweep_heatmap(table, "fast", "slow", "sharpe_ratio").data[0]
    assert list(hm.x) == ["5", "8"] and list(hm.y) == ["21", "34"]
    assert np.array(hm.z, dtype=float) == pytest.approx(np.array([[0.1, 0.3], [0.2, -0.4]]))


def test_sweep_heatmap_aggregates_other_parameters_and_validates() -> None:
    table = pd.DataFrame({"fast": [5, 5], "slow": [21, 21], "signal": [7, 9], "sharpe_ratio": [0.1, 0.5]})
    fig = sweep_heatmap(table, "fast", "slow", "sharpe_ratio")
    assert np.array(fig.data[0].z, dtype=float) == pytest.approx(np.array([[0.5]]))
    assert "max over other parameters" in fig.layout.title.text
    with pytest.raises(ValidationError, match="'sortino_ratio'"):
        sweep_heatmap(table, "fast", "slow", "sortino_ratio")
    with pytest.raises(ValidationError, match="two different"):
        sweep_heatmap(table, "fast", "fast", "sharpe_ratio")
    with pytest.raises(ValidationError, match="agg"):
        sweep_heatmap(table, "fast", "slow", "sharpe_ratio", agg="sum")


def test_runs_comparison_one_panel_per_metric_one_bar_per_run() -> None:
    runs = pd.DataFrame({"id": [7, 9], "strategy": ["EmaCross", "RsiReversion"], "symbol": ["KRW-BTC"] * 2,
                         "timeframe": ["1h"] * 2, "total_return": [0.1, -0.05], "sharpe_ratio": [1.5, -0.3],
                         "profit_factor": [math.inf, 0.8]})
    fig = runs_comparison_figure(runs, ["total_return", "sharpe_ratio", "profit_factor"])
    assert len(fig.data) == 3
    ret, sharpe, pf = fig.data
    assert list(ret.x) == ["#7 EmaCross KRW-BTC 1h", "#9 RsiReversion KRW-BTC 1h"]
    assert ret.y == pytest.approx([10.0, -5.0]) and sharpe.y == pytest.approx([1.5, -0.3])
    assert math.isnan(pf.y[0]) and pf.y[1] == pytest.approx(0.8)   # inf is left out, not drawn
    assert ret.yaxis != sharpe.yaxis
    with pytest.raises(ValidationError, match="win_rate"):
        runs_comparison_figure(runs, ["total_return", "win_rate"])
    with pytest.raises(ValidationError, match="list of metric"):
        runs_comparison_figure(runs, "total_return")
    with pytest.raises(ValidationError, match="no rows"):
        runs_comparison_figure(runs.iloc[:0], ["total_return"])


def test_walk_forward_figure() -> None:
    folds = pd.DataFrame({"fold": [0, 1], "is_sharpe_ratio": [1.0, 2.0], "oos_sharpe_ratio": [0.5, -1.0]})
    fig = walk_forward_figure(folds)
    assert [t.name for t in fig.data] == ["in sample", "out of sample"]
    assert list(fig.data[1].y) == [0.5, -1.0]
    with pytest.raises(ValidationError, match="oos_total_return"):
        walk_forward_figure(folds, "total_return")


# -- labels and setup --------------------------------------------------------------------------------

def test_sample_label_only_for_synthetic_symbols() -> None:
    assert sample_label("KRW-SYNBTC") == SAMPLE_LABEL
    assert sample_label("KRW-BTC, krw-syneth") == SAMPLE_LABEL
    assert sample_label(["KRW-BTC", "KRW-ETH"]) is None
    assert sample_label(None) is None and sample_notice("KRW-BTC") is None
    assert SAMPLE_LABEL in sample_notice(["KRW-SYNXRP"]).data  # type: ignore[union-attr]


def test_label_figure_adds_an_annotation_or_nothing() -> None:
    fig = equity_figure(pd.Series([1.0, 2.0], index=IDX[:2]))
    assert label_figure(fig, None) is fig and len(fig.layout.annotations) == 0
    out = label_figure(fig, SAMPLE_LABEL)
    assert out is fig and len(fig.layout.annotations) == 1
    note = fig.layout.annotations[0]
    assert "SYNTHETIC SAMPLE DATA" in note.text and note.xref == "paper"
    with pytest.raises(ValidationError, match="Figure"):
        label_figure({"data": []}, SAMPLE_LABEL)  # type: ignore[arg-type]


def test_setup_plotly_uses_the_offline_notebook_renderer() -> None:
    before_name, before = pio.renderers.default, pio.renderers["notebook"]
    try:
        setup_plotly()
        assert pio.renderers.default == "notebook"
        renderer = pio.renderers["notebook"]
        assert not renderer.connected  # plotly.js is embedded, not fetched from a CDN
        html = renderer.to_mimebundle(equity_figure(pd.Series([1.0, 2.0], index=IDX[:2])).to_dict())["text/html"]
        assert "Plotly.newPlot" in html and "<script src=" not in html
    finally:
        pio.renderers["notebook"] = before
        pio.renderers.default = before_name


def test_import_changes_no_plotly_setting() -> None:
    code = ("import plotly.io as pio; before = pio.renderers.default; import workbench.present; "
            "assert pio.renderers.default == before, pio.renderers.default")
    subprocess.run([sys.executable, "-c", code], check=True)
