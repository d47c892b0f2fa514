"""The report's story parts, against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.core.backtest import BacktestConfig, run_backtest
from workbench.core.strategies import EmaCross, Risk
from workbench.errors import ValidationError
from workbench.present import (
    REPORT_MIMETYPE,
    data_summary,
    drawdown_periods,
    equity_vs_benchmark_figure,
    report_header,
    report_title,
    trade_table,
    underwater_figure,
    worst_drawdowns_table,
)


def times(x: object) -> list[pd.Timestamp]:
    """Trace x values as UTC timestamps: ISO text (plotly's form of an index), or KST wall-clock epoch
    milliseconds (what the report figures draw on their date axes)."""
    values = pd.Series(list(x))  # type: ignore[call-overload]
    if pd.api.types.is_numeric_dtype(values):
        # the report figures' axes are a KST wall clock: 9 h ahead of the UTC epoch
        return list(pd.to_datetime(values - 9 * 3600 * 1000, unit="ms", utc=True))
    return list(pd.to_datetime(values, utc=True))


IDX = pd.date_range("2025-01-01", periods=10, freq="1D", tz="UTC", name="ts")


def test_drawdown_periods_by_hand() -> None:
    # peak 100 (t0) -> 90 (t2) -> back to 100 at t3; new peak 120 (t5) -> 60 (t7), never recovered
    equity = pd.Series([100, 95, 90, 100, 110, 120, 100, 60, 80, 90], index=IDX, dtype=float)
    periods = drawdown_periods(equity)
    assert len(periods) == 2
    worst, second = periods.iloc[0], periods.iloc[1]
    assert worst["start"] == IDX[5] and worst["valley"] == IDX[7] and pd.isna(worst["end"])
    assert worst["depth"] == pytest.approx(60 / 120 - 1) and not worst["recovered"]
    assert worst["days"] == pytest.approx(4.0)  # t5 to the last time, t9
    assert second["start"] == IDX[0] and second["valley"] == IDX[2] and second["end"] == IDX[3]
    assert second["depth"] == pytest.approx(-0.10) and second["recovered"] and second["days"] == pytest.approx(3.0)
    assert len(drawdown_periods(equity, top=1)) == 1
    assert drawdown_periods(pd.Series([1.0, 2.0, 3.0], index=IDX[:3])).empty


def test_worst_drawdowns_table_is_formatted_in_kst() -> None:
    equity = pd.Series([100, 95, 90, 100, 110, 120, 100, 60, 80, 90], index=IDX, dtype=float)
    table = worst_drawdowns_table(equity)
    assert table.loc[1, "depth"] == "-50.00%" and table.loc[1, "recovered (KST)"] == "not recovered"
    assert table.loc[1, "peak (KST)"] == "2025-01-06 09:00 KST"
    assert table.loc[2, "recovered (KST)"] == "2025-01-04 09:00 KST" and table.loc[2, "days"] == "3.0"


def test_underwater_figure_shades_the_worst_periods() -> None:
    equity = pd.Series([100, 95, 90, 100, 110, 120, 100, 60, 80, 90], index=IDX, dtype=float)
    fig = underwater_figure(equity, top=2)
    assert list(fig.data[0].y) == pytest.approx([0, -5, -10, 0, 0, 0, -100 / 6, -50, -100 / 3, -25])
    shapes = fig.layout.shapes
    assert len(shapes) == 2 and pd.Timestamp(shapes[0].x0) == IDX[5] and pd.Timestamp(shapes[0].x1) == IDX[9]
    valleys = fig.data[1]
    assert list(valleys.text) == ["#1", "#2"] and list(valleys.y) == pytest.approx([-50.0, -10.0])
    assert times(valleys.x) == [IDX[7], IDX[2]] and fig.layout.xaxis.type == "date" and list(valleys.customdata) == ["-50.00%", "-10.00%"]


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(7)
    idx = pd.date_range("2025-01-01", periods=24 * 40, freq="1h", tz="UTC", name="ts")
    close = 50_000_000 * np.exp(np.cumsum(rng.normal(0, 0.01, len(idx))))
    frame = pd.DataFrame({"open": close, "high": close * 1.005, "low": close * 0.995, "close": close,
                          "volume": 1.0}, index=idx)
    risk = Risk(stop_loss_pct=2.0, take_profit_pct=4.0, risk_per_trade=1.0, max_positions=1)
    res = run_backtest(frame, EmaCross(fast=5, slow=13, risk=risk), BacktestConfig(), timeframe="1h",
                       symbol="KRW-SYNBTC")
    return res, frame


def test_title_header_and_index_metadata(result) -> None:  # type: ignore[no-untyped-def]
    res, frame = result
    title = report_title(res)
    # first and last bar 2025-01-01 00:00 and 2025-02-09 23:00 UTC, in KST (UTC+9) like every time of a report
    assert title == "EmaCross(fast=5, slow=13) on KRW-SYNBTC · 1h · 2025-01-01 09:00 → 2025-02-10 08:00 KST (40 days)"
    block = report_header(res, backtest_id=42)
    bundle = block._repr_mimebundle_()
    meta = bundle[REPORT_MIMETYPE]
    assert meta["title"] == title and meta["backtest_id"] == 42 and meta["synthetic"] is True
    # buy & hold of the one symbol, bought at the first close (hand-computed from the prices)
    assert meta["kpis"]["benchmark_return"] == pytest.approx(frame["close"].iloc[-1] / frame["close"].iloc[0] - 1)
    html = bundle["text/html"]
    assert "SYNTHETIC" in html and "Buy &amp; hold" in html and "Total return" in html
    expected = f"{100 * res.metrics.total_return:+.2f}%"
    assert expected in html
    assert "e+0" not in html and "e-0" not in html
    fig = equity_vs_benchmark_figure(res.equity, res.benchmark)
    assert [t.name for t in fig.data] == ["strategy", "buy & hold"]


def test_trade_table_formats_prices_times_and_money(result) -> None:  # type: ignore[no-untyped-def]
    res, _ = result
    table = trade_table(res.trades)
    assert len(table) == len(res.trades) > 0
    first = res.trades.iloc[0]
    row = table.iloc[0]
    assert row["entry (KST)"] == (first["entry_time"] + pd.Timedelta(hours=9)).strftime("%Y-%m-%d %H:%M KST")
    assert row["entry price"] == f"{first['entry_price']:,.0f}"  # tens of millions: no decimals
    pnl = first["pnl"]
    assert row["PnL"] == ("-" if round(pnl) < 0 else "") + f"₩{abs(pnl):,.0f}"
    # every row is its own trade (symbol and prices from the same row), also the last one
    last = res.trades.iloc[-1]
    assert table.iloc[-1]["symbol"] == last["symbol"] and table.index[-1] == len(res.trades)
    assert table.iloc[-1]["entry price"] == f"{last['entry_price']:,.0f}"
    with pytest.raises(ValidationError, match="missing column"):
        trade_table(res.trades.drop(columns=["fees"]))


def test_trade_table_of_a_long_list_keeps_its_ends_numbered_as_in_full() -> None:
    n = 7
    trades = pd.DataFrame({
        "symbol": [f"KRW-S{i}" for i in range(n)], "entry_time": IDX[:n], "exit_time": IDX[1:n + 1],
        "size": 1.0, "entry_price": [1000.0 * (i + 1) for i in range(n)], "exit_price": 1.0, "fees": 1.0,
        "pnl": 1.0, "ret": 0.01, "status": "closed", "exit_reason": "signal"})
    table = trade_table(trades, max_rows=4)
    assert list(table.index) == [1, 2, 6, 7]
    assert list(table["symbol"]) == ["KRW-S0", "KRW-S1", "KRW-S5", "KRW-S6"]
    assert list(table["entry price"]) == ["1,000", "2,000", "6,000", "7,000"]


def test_data_summary_counts_gaps_of_the_window() -> None:
    idx = pd.date_range("2025-01-01", periods=10, freq="1h", tz="UTC", name="ts").delete([3, 4])
    frame = pd.DataFrame({"open": 1.0, "high": 1.0, "low": 1.0, "close": 1.0, "volume": 1.0}, index=idx)
    summary = data_summary({"KRW-BTC": frame, "KRW-SYNETH": frame}, "1h")
    assert summary.loc["KRW-BTC", "source"] == "Bithumb market data"
    assert summary.loc["KRW-SYNETH", "source"] == "SYNTHETIC sample"
    assert summary.loc["KRW-BTC", "bars"] == "8" and summary.loc["KRW-BTC", "gaps (missing bars)"] == "1 (2)"
    assert summary.loc["KRW-BTC", "first bar (KST)"] == "2025-01-01 09:00 KST"


def test_plot_result_and_exports(result, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from workbench.present import export_result

    res, frame = result
    fig = res.plot()
    names = [t.name for t in fig.data]
    assert names[:2] == ["strategy", "buy & hold"] and names[2] == "drawdown"
    assert names[-3:] == ["KRW-SYNBTC", "KRW-SYNBTC entry", "KRW-SYNBTC exit"]
    assert list(fig.data[0].y) == pytest.approx(res.equity.to_list())
    assert list(fig.data[-3].y) == pytest.approx(frame["close"].to_list())
    entries = fig.data[-2]
    assert len(entries.x) == len(res.trades)
    colours = ["#26a69a" if p > 0 else "#ef5350" if p < 0 else "#90a4ae" for p in res.trades["pnl"]]
    assert list(entries.marker.color) == colours
    assert "SYNTHETIC" in fig.layout.title.text
    assert [t.name for t in res.plot(trades=False).data][-1] in ("drawdown", "worst drawdowns")
    csv = export_result(res, tmp_path / "t.csv")
    back = pd.read_csv(csv)
    assert len(back) == len(res.trades) and back["pnl"].to_numpy() == pytest.approx(res.trades["pnl"].to_numpy())
    pq = export_result(res, tmp_path / "e.parquet", "equity")
    eq = pd.read_parquet(pq)
    assert eq["equity"].to_numpy() == pytest.approx(res.equity.to_numpy()) and eq.index[0] == res.equity.index[0]
    assert eq["benchmark"].to_numpy() == pytest.approx(res.benchmark.to_numpy())
    with pytest.raises(ValidationError, match=r"\.csv or \.parquet"):
        export_result(res, tmp_path / "t.xlsx")


def test_drawdown_periods_count_the_initial_capital_as_the_first_peak() -> None:
    equity = pd.Series([95.0, 90.0, 101.0], index=IDX[:3])
    periods = drawdown_periods(equity, initial=100.0)
    assert len(periods) == 1 and periods.loc[0, "depth"] == pytest.approx(-0.10)
    assert periods.loc[0, "end"] == IDX[2]
    assert drawdown_periods(equity).loc[0, "depth"] == pytest.approx(90 / 95 - 1)  # no initial: from 95


def test_thin_keeps_extremes_and_ends() -> None:
    from workbench.present.result_figures import thin

    idx = pd.date_range("2025-01-01", periods=12, freq="1min", tz="UTC")
    s = pd.Series([5, 1, 9, 4, 4, 0, 7, 3, 8, 2, 6, 5], index=idx, dtype=float)
    out = thin(s, max_points=6)  # buckets of 4: [5,1,9,4] [4,0,7,3] [8,2,6,5]
    # the first, each bucket's min and max in time order, the last
    assert list(out) == [5, 1, 9, 0, 7, 8, 2, 5]
    assert list(out.index) == list(idx[[0, 1, 2, 5, 6, 8, 9, 11]])
    assert thin(s, max_points=100) is s


def test_coarser_bars_merge_ohlcv_by_hand() -> None:
    from workbench.present.report_figures import coarser_bars

    idx = pd.date_range("2025-01-01", periods=5, freq="1min", tz="UTC")
    bars = pd.DataFrame({"open": [1.0, 2, 3, 4, 5], "high": [2.0, 5, 4, 6, 5.5], "low": [0.5, 1, 2, 3, 4],
                         "close": [2.0, 3, 4, 5, 5], "volume": [1.0, 2, 3, 4, 5]}, index=idx)
    out = coarser_bars(bars, max_bars=3)  # groups of 2: [0,1] [2,3] [4]
    assert list(out.index) == [idx[0], idx[2], idx[4]]
    assert out.to_dict("list") == {"open": [1.0, 3, 5], "high": [5.0, 6, 5.5], "low": [0.5, 2, 4],
                                   "close": [3.0, 5, 5], "volume": [3.0, 7, 5]}


def test_formatted_tables_and_heading(result) -> None:  # type: ignore[no-untyped-def]
    from workbench.present import formatted, metrics_table, report_heading

    frame = pd.DataFrame({"fast": [5, 8], "total_return": [0.0512, -0.020542], "avg_loss": [-100701.76, None],
                          "sharpe_ratio": [1.23456, float("nan")], "created_at": [IDX[0], IDX[1]],
                          "parameters": [{"fast": 5}, {"fast": 8}]})
    out = formatted(frame)
    assert out.to_dict("list") == {   # headers titled for people, not snake_case
        "fast": ["5", "8"], "Total return": ["+5.12%", "-2.05%"], "Average loss": ["-₩100,702", "–"],
        "Sharpe ratio": ["1.23", "–"], "created at": ["2025-01-01 09:00 KST", "2025-01-02 09:00 KST"],
        "parameters": ["fast=5", "fast=8"]}
    assert list(formatted(frame, titles=False).columns) == list(frame.columns)
    series = formatted(pd.Series({"stitched_oos_return": 0.1, "oos_trades": 12}))
    assert list(series["value"]) == ["+10.00%", "12"]
    res, _ = result
    table = metrics_table(res)
    assert table.loc["Total return", "value"] == f"{100 * res.metrics.total_return:+.2f}%"
    assert len(table) == len(res.metrics)
    block = report_heading("Sweep X", symbols=["KRW-SYNBTC"], kpis={"total_return": 0.1, "bad": float("nan")})
    meta = block._repr_mimebundle_()[REPORT_MIMETYPE]
    assert meta == {"title": "Sweep X", "synthetic": True, "symbols": ["KRW-SYNBTC"], "kpis": {"total_return": 0.1},
                    "headline": "", "backtest_ids": [], "paper_run_ids": []}
    assert "SYNTHETIC" in block.html and "<h1>Sweep X</h1>" in block.html


def test_results_table_ranks_and_titles() -> None:
    from workbench.present import results_table

    table = pd.DataFrame({"fast": [8.0, 5.0], "slow": [21, 34], "sharpe_ratio": [1.5, 0.25],
                          "total_return": [0.1, -0.02], "max_drawdown": [0.05, 0.083], "total_trades": [12, 3],
                          "avg_win": [68129.232281, 1.0], "sweep_id": ["x", "x"]})
    out = results_table(table, ["fast", "slow"], "sharpe_ratio")
    assert out.index.name == "rank" and list(out.index) == [1, 2]
    assert out.to_dict("list") == {"fast": ["8", "5"], "slow": ["21", "34"], "Sharpe ratio": ["1.50", "0.25"],
                                   "Total return": ["+10.00%", "-2.00%"], "Max drawdown": ["-5.00%", "-8.30%"],
                                   "Trades": ["12", "3"]}
    assert len(results_table(table, ["fast", "slow"], "sharpe_ratio", top=1)) == 1


def test_versus_benchmark_says_when_everything_loses() -> None:
    from workbench.present import versus_benchmark

    assert versus_benchmark({"A": 0.02, "B": -0.01, "C": 0.2}, 0.25, best="A") == (
        "All 3 strategies lose to buy & hold (+25.00%); the least bad by Sharpe is A (+2.00%).")
    assert versus_benchmark({"A": 0.3}, 0.25, best="A") == (
        "1 of 1 strategy beat buy & hold (+25.00%); the best by Sharpe is A (+30.00%).")
    assert versus_benchmark({"A": 0.1}, float("nan"), best="A") == (
        "The best of 1 by Sharpe is A (+10.00%); no benchmark to compare with.")


def test_full_table_empty_says_none_and_hides_a_range_index() -> None:
    from workbench.present import full_table

    assert full_table(pd.DataFrame({"a": []})).html == '<p class="wb-none"><em>none</em></p>'
    html = full_table(pd.DataFrame({"a": ["x"]})).html
    assert "<th>a</th>" in html and "<th>0</th>" not in html
