"""Numbers and times for people: expected strings written by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from workbench.present.formatting import (
    format_count,
    format_days,
    format_krw,
    format_metric,
    format_pct,
    format_price,
    format_ratio,
    format_time_kst,
    metric_title,
    metric_unit,
)


@pytest.mark.parametrize(("value", "expected"), [
    (-0.020542, "-2.05%"), (0.05, "+5.00%"), (0.0, "0.00%"), (-0.00001, "0.00%"), (12.5, "+1,250.00%"),
    (np.float64(0.1234), "+12.34%"), (None, "–"), (float("nan"), "–"), (float("inf"), "∞"),
])
def test_percent(value: object, expected: str) -> None:
    assert format_pct(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    (-100701.762755, "-₩100,702"), (10_000_000.0, "₩10,000,000"), (0.4, "₩0"), (-0.4, "₩0"),
    (np.int64(1234), "₩1,234"), (None, "–"),
])
def test_krw(value: object, expected: str) -> None:
    assert format_krw(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    (92400420.0, "92,400,420"), (9.240042e7, "92,400,420"), (1234.5, "1,234.5"), (1234.0, "1,234"),
    (12.3456, "12.35"), (12.0, "12"), (0.00123456, "0.001235"), (0.5, "0.5"), (0.0, "0"),
    (1.5e-9, "0.0000000015"), (None, "–"),
])
def test_price_never_scientific(value: object, expected: str) -> None:
    assert format_price(value) == expected
    assert "e" not in format_price(value).lower()


def test_ratios_counts_days() -> None:
    assert format_ratio(1.23456) == "1.23"
    assert format_ratio(-0.001) == "0.00"
    assert format_ratio(float("inf")) == "∞"
    assert format_count(1234567) == "1,234,567"
    assert format_count(np.int64(3)) == "3"
    assert format_days(12.46) == "12.5 days"
    assert format_days(0.25) == "6 h"


def test_metrics_by_unit() -> None:
    assert format_metric("total_return", -0.020542) == "-2.05%"
    assert format_metric("max_drawdown", 0.254) == "-25.40%"  # stored positive, shown as the loss it is
    assert format_metric("oos_max_drawdown", -0.254) == "-25.40%" and format_metric("max_drawdown", 0.0) == "0.00%"
    assert format_metric("win_rate", 0.2917) == "29.17%"
    assert format_metric("avg_loss", -100701.762755) == "-₩100,702"
    assert format_metric("sharpe_ratio", -5.1712) == "-5.17"
    assert format_metric("total_trades", np.int64(72)) == "72"
    assert format_metric("max_drawdown_duration", 3.0) == "3.0 days"
    assert format_metric("oos_total_return", 0.0065) == "+0.65%"
    assert format_metric("compounded_oos_return", -0.0054) == "-0.54%"
    assert format_metric("fast", 8) == "8"
    assert format_metric("something", 1234567.8) == "1,234,568"
    assert format_metric("something", 0.123456) == "0.1235"
    assert format_metric("label", "KRW-BTC") == "KRW-BTC"
    assert metric_unit("sharpe_ratio") == "ratio" and metric_unit("symbol") is None
    assert metric_title("annual_return") == "CAGR" and metric_title("foo_bar") == "foo bar"


def test_times_in_kst() -> None:
    assert format_time_kst(pd.Timestamp("2025-01-01 00:00", tz="UTC")) == "2025-01-01 09:00 KST"
    assert format_time_kst(pd.Timestamp("2025-06-30 15:30", tz="UTC")) == "2025-07-01 00:30 KST"
    assert format_time_kst(datetime(2025, 1, 1, 23, 59, 30)) == "2025-01-02 08:59 KST"  # naive = UTC
    assert format_time_kst(datetime(2025, 1, 1, tzinfo=UTC), seconds=True) == "2025-01-01 09:00:00 KST"
    assert format_time_kst("2025-01-01T00:00:00+00:00") == "2025-01-01 09:00 KST"
    assert format_time_kst(pd.NaT) == "–"
    assert format_time_kst(None) == "–"


def test_units_agree_with_the_engines_metric_table() -> None:
    from workbench.core.backtest import METRIC_INFO

    for key, info in METRIC_INFO.items():
        assert metric_unit(key) == info.unit, key


def test_titles_and_units_come_from_the_one_registry() -> None:
    from dataclasses import fields

    from workbench.core.backtest import Metrics
    from workbench.core.metrics import GRID_METRICS, METRICS
    from workbench.present.formatting import metric_short

    assert list(METRICS) == [f.name for f in fields(Metrics)]   # one entry per field, in the field order
    assert not set(METRICS) & set(GRID_METRICS)
    assert [metric_title(k) for k in ("sharpe_ratio", "benchmark_return", "max_drawdown_duration", "var_95")] == [
        "Sharpe ratio", "Buy & hold return", "Longest drawdown", "Daily VaR 95%"]
    assert metric_title("oos_sharpe_ratio") == "OOS Sharpe ratio" and metric_title("pbo").startswith("PBO")
    assert (metric_short("sharpe_ratio"), metric_short("max_drawdown"), metric_short("foo_bar")) == (
        "Sharpe", "max drawdown", "foo bar")
    assert (metric_unit("pbo"), metric_unit("oos_max_drawdown_duration"), metric_unit("pnl")) == ("pct", "days", "krw")
    # every entry says how it is computed and has both names
    assert all(info.formula and info.title and info.short for info in (*METRICS.values(), *GRID_METRICS.values()))


def test_format_cell_by_column_and_type() -> None:
    from workbench.present.formatting import format_cell, format_params

    assert format_cell("change", 0.01308) == "+1.31%"            # quality's price jumps: percent, not 0.01308
    assert format_cell("pnl_difference", -0.004) == "₩0"         # never "-0.00"
    assert format_krw(-0.004, 2) == "₩0.00"
    assert format_cell("entry_price_p", 94328000.0) == "94,328,000"
    assert format_cell("entry_time", pd.Timestamp("2025-01-01 15:30", tz="UTC")) == "2025-01-02 00:30 KST"
    assert format_cell("last_bar", pd.NaT) == "–"
    assert format_cell("parameters", {"fast": 5.0, "slow": 13, "k": 2.5}) == "fast=5 slow=13 k=2.5"
    assert format_cell("symbols", ["KRW-BTC", "KRW-ETH"]) == "KRW-BTC, KRW-ETH"
    assert format_cell("status", "finished") == "finished"
    assert format_params({}) == "–" and format_params(None) == "–"


def test_table_layout_keeps_numbers_whole() -> None:
    from workbench.present.layout import TableColumn, column_widths, fit_columns

    cols = [TableColumn("id", "id", ("7",), numeric=True, priority=3),
            TableColumn("equity", "equity", ("₩94,328,000",), numeric=True, priority=2),
            TableColumn("strategy", "strategy", ("EmaCross fast=5",), priority=1)]
    # minimum widths 2, 11, 8 -> 21 + 3 x 3 + 1 borders = 31
    assert fit_columns(cols, 31) == (["id", "equity", "strategy"], [])
    assert fit_columns(cols, 30) == (["id", "equity"], ["strategy"])
    assert column_widths(cols, 31) == [2, 11, 8]
    assert column_widths(cols, 40) == [2, 11, 15]   # natural widths fit: 28 + 10 = 38
