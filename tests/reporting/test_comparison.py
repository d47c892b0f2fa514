"""A run comparison as people read it (runs table with buy & hold, manifests split into shared and differing
fields, drawdown bars below zero), the table rendering every report uses (fits the page, "none" when empty),
and a stored run's buy & hold recomputed from the stored candles; expected values written by hand."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import pytest

from workbench.present import (
    full_table,
    indicators_table,
    manifests_tables,
    matched_trades_tables,
    reconciliation_causes,
    run_label,
    runs_comparison_figure,
    runs_table,
    window_text,
)
from workbench.present.summaries import comparison_kpis

T0 = pd.Timestamp("2025-01-01 00:00", tz="UTC")


def _runs() -> pd.DataFrame:
    return pd.DataFrame({
        "id": [8, 9], "strategy_name": ["EmaCross", "RsiReversion"], "symbol": ["KRW-BTC", "KRW-BTC"],
        "symbols": [["KRW-BTC", "KRW-ETH"], ["KRW-BTC"]], "timeframe": ["1h", "4h"],
        "start_date": [T0, T0], "end_date": [T0 + pd.Timedelta(days=2), T0 + pd.Timedelta(hours=15)],
        "total_return": [0.05, -0.02], "benchmark_return": [0.25, None], "excess_return": [-0.20, None],
        "annual_return": [1.5, -0.3], "sharpe_ratio": [1.234, -0.5], "max_drawdown": [0.083, 0.02],
        "win_rate": [0.5, 0.25], "total_trades": [12, 4], "split": ["full", "walk_forward"],
        "parameters": [{"params": {"fast": 5.0, "slow": 13}, "risk": {"max_positions": 2}, "symbols": ["KRW-BTC"]},
                       {"params": {"walk_forward_folds": [{"period": 14}, {"period": 21}]}, "risk": {},
                        "symbols": ["KRW-BTC"]}],
    })


def test_run_labels_and_runs_table_by_hand() -> None:
    runs = _runs()
    assert [run_label(r) for r in runs.to_dict("records")] == ["#8 EmaCross fast=5 slow=13",
                                                               "#9 RsiReversion walk-forward (2 folds)"]
    table = runs_table(runs)
    assert list(table.columns) == ["run", "symbols", "period (KST)", "Total return", "Buy & hold return",
                                   "Excess return", "CAGR", "Sharpe ratio", "Max drawdown", "Win rate", "Trades", "split"]
    assert table.iloc[0].tolist() == ["#8 EmaCross fast=5 slow=13", "KRW-BTC, KRW-ETH · 1h",
                                      "2025-01-01 09:00 → 2025-01-03 09:00", "+5.00%", "+25.00%", "-20.00%",
                                      "+150.00%", "1.23", "-8.30%", "50.00%", "12", "full"]
    assert table.iloc[1].tolist() == ["#9 RsiReversion walk-forward (2 folds)", "KRW-BTC · 4h",
                                      "2025-01-01 09:00 → 2025-01-02 00:00", "-2.00%", "–", "–", "-30.00%",
                                      "-0.50", "-2.00%", "25.00%", "4", "walk forward"]


def test_comparison_kpis_say_whether_the_best_beat_buy_and_hold() -> None:
    kpis, line = comparison_kpis(_runs())
    assert kpis == {"total_return": 0.05, "benchmark_return": 0.25, "max_drawdown": 0.083, "sharpe_ratio": 1.234,
                    "total_trades": 12.0}
    assert line == "best by Sharpe of 2: #8 EmaCross fast=5 slow=13 (+5.00%, loses to buy & hold +25.00%)"


def test_runs_figure_draws_drawdowns_below_zero_and_buy_and_hold_on_the_returns() -> None:
    fig = runs_comparison_figure(_runs(), ["total_return", "max_drawdown", "sharpe_ratio"])
    ret, bench, dd, sharpe = fig.data
    assert list(ret.y) == pytest.approx([5.0, -2.0]) and list(ret.text) == ["+5.00%", "-2.00%"]
    assert bench.name == "buy & hold" and bench.y[0] == pytest.approx(25.0) and bench.y[1] != bench.y[1]  # NaN
    assert list(dd.y) == pytest.approx([-8.3, -2.0]) and list(dd.text) == ["-8.30%", "-2.00%"]
    assert list(sharpe.text) == ["1.23", "-0.50"]
    assert [a.text for a in fig.layout.annotations] == ["Total return", "Max drawdown", "Sharpe ratio"]


def test_manifests_split_into_shared_and_differing_fields() -> None:
    common = {"strategy_class": "workbench.core.strategies.builtin:EmaCross", "git_commit": "abc123",
              "package_versions": {"numpy": "2.4.6", "pandas": "3.1.1"}, "data_rows": 144, "sweep_id": None,
              "backtest_config": {"fee_rate": 0.0025}, "data_fingerprint": "f" * 64}
    runs: list[dict[str, Any]] = [
        {**common, "id": 1, "strategy_name": "EmaCross", "run_id": "r-1", "split": "full",
         "parameters": {"params": {"fast": 5}, "risk": {"max_positions": 2}, "symbols": ["KRW-BTC"]}},
        {**common, "id": 2, "strategy_name": "EmaCross", "run_id": "r-2", "split": "full",
         "parameters": {"params": {"fast": 8}, "risk": {"max_positions": 2}, "symbols": ["KRW-BTC"]}}]
    html = manifests_tables(runs).html
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "Shared by every run (2)" in text and "Different per run" in text
    for shared in ("sweep id –", "split full", "git commit abc123", "package versions numpy 2.4.6, pandas 3.1.1",
                   f"data fingerprint {'f' * 64}", "data rows 144"):
        assert shared in text, shared
    assert "run run id parameters" in text   # the differing fields only
    assert "#1 EmaCross fast=5 r-1 fast=5; risk: max_positions=2; symbols: KRW-BTC" in text
    assert "wb-table-wrap" in html           # long values (hashes) wrap within the page
    assert manifests_tables([]).html == '<p class="wb-none"><em>none</em></p>'


def test_full_table_fits_the_page() -> None:
    frame = pd.DataFrame({"value": ["-₩50,751", "KRW-SYNBTC", "two words", "KRW-SYNBTC, KRW-SYNETH · 1h"]},
                         index=pd.Index(["a", "b", "c", "d"], name="field"))
    html = full_table(frame).html
    # one header row, the index's name in its corner; numbers and symbols never break (at their hyphen)
    assert html.count("<tr") == 5 and re.search(r"<th>field</th>\s*<th>value</th>", html)
    assert '<td class="wb-nw">-₩50,751</td>' in html and '<td class="wb-nw">KRW-SYNBTC</td>' in html
    assert "<td>two words</td>" in html
    assert ('<td><span class="wb-nw">KRW-SYNBTC,</span> <span class="wb-nw">KRW-SYNETH</span> · '
            '<span class="wb-nw">1h</span></td>') in html
    assert "white-space:normal" in html and "wb-table-box" in html
    assert full_table(frame.iloc[:0]).html == '<p class="wb-none"><em>none</em></p>'


def test_windows_are_shown_in_kst() -> None:
    assert window_text("2025-01-01", "2025-03-01") == "2025-01-01 09:00 → 2025-03-01 09:00 KST"
    assert window_text(pd.Timestamp("2025-01-01 15:00", tz="UTC"), pd.Timestamp("2025-01-02", tz="UTC")) == \
        "2025-01-02 00:00 → 2025-01-02 09:00 KST"


def test_reconciliation_tables_for_people() -> None:
    summary = pd.DataFrame({"krw": [100.0, -25.4, 74.6], "share": [100 / 74.6, -25.4 / 74.6, 1.0]},
                           index=["partial_fills", "exit_price", "total"])
    causes = reconciliation_causes(summary)
    assert causes.index.tolist() == ["partial fills", "exit price", "total"]
    assert causes.to_dict("list") == {"PnL effect": ["₩100", "-₩25", "₩75"],
                                      "share of the difference": ["+134.05%", "-34.05%", "+100.00%"]}
    matched = pd.DataFrame({"symbol": ["KRW-BTC"], "entry_time": [T0], "size_p": [0.0558], "size_b": [0.02236],
                            "entry_price_p": [89233000.0], "entry_price_b": [89232983.0], "exit_price_p": [92755000.0],
                            "exit_price_b": [92755901.0], "fees_p": [25387.2], "fees_b": [10172.0],
                            "size_effect": [117816.0], "entry_price_effect": [-1.0], "exit_price_effect": [-50.25],
                            "fee_effect": [-15215.2], "pnl_difference": [102549.55]})
    fills, effects = matched_trades_tables(matched)
    assert fills.iloc[0].tolist() == ["KRW-BTC", "2025-01-01 09:00 KST", "0.0558", "0.02236", "89,233,000",
                                      "89,232,983", "92,755,000", "92,755,901", "₩25,387", "₩10,172"]
    assert list(fills.columns[2:4]) == ["size (paper)", "size (backtest)"]
    assert effects.iloc[0].tolist() == ["KRW-BTC", "2025-01-01 09:00 KST", "₩117,816.00", "-₩1.00", "-₩50.25",
                                        "-₩15,215.20", "₩102,549.55"]


def test_indicators_table_titles_and_kst_columns() -> None:
    idx = pd.date_range("2025-01-01", periods=3, freq="1h", tz="UTC")
    ind = pd.DataFrame({"rsi_14": [30.0, 31.5, None], "stochastic_k": [4.5, 4.42, 6.2],
                        "macd_line": [-685309.2, 1.0, 2.0]}, index=idx)
    table = indicators_table(ind, last=2)
    assert table.index.tolist() == ["RSI 14", "Stochastic %K", "MACD line"]
    assert table.columns.tolist() == ["2025-01-01 10:00 KST", "2025-01-01 11:00 KST"]
    assert table.to_dict("list") == {"2025-01-01 10:00 KST": ["31.5", "4.42", "1"],
                                     "2025-01-01 11:00 KST": ["–", "6.2", "2"]}


def test_a_stored_runs_buy_and_hold_is_recomputed_from_its_candles(session: Any) -> None:
    from workbench.app.compare import compare_runs
    from workbench.core.strategies import EmaCross
    from workbench.ingest.sample import generate_sample_candles
    from workbench.store.writer import write_table

    write_table(session.db, "candles", generate_sample_candles(days=3))
    run = session.backtest(EmaCross(fast=5, slow=13), "KRW-SYNBTC,KRW-SYNETH", "1h", "2025-01-01", "2025-01-03")
    compared = compare_runs(session, [run.backtest_id])
    # by hand: equal weights, each symbol bought at its first 1h close and held to its last
    closes = {s: session.candles(s, "1h", "2025-01-01", "2025-01-03")["close"] for s in ("KRW-SYNBTC", "KRW-SYNETH")}
    by_hand = sum(c.iloc[-1] / c.iloc[0] for c in closes.values()) / 2 - 1
    row = compared.runs.iloc[0]
    assert row["benchmark_return"] == pytest.approx(by_hand, rel=1e-12)
    assert row["benchmark_return"] == pytest.approx(run.result.metrics.benchmark_return, rel=1e-12)
    assert row["excess_return"] == pytest.approx(row["total_return"] - by_hand, rel=1e-9)
    assert row["symbols"] == ["KRW-SYNBTC", "KRW-SYNETH"]
    bench = compared.benchmarks[run.backtest_id]
    assert bench is not None and bench.index.equals(compared.stored[run.backtest_id]["equity"].index)


def test_importances_in_percent_largest_first() -> None:
    from workbench.present import importances_table

    table = importances_table(pd.Series({"fast": 0.3874, "slow": 0.6126}))
    assert table.index.tolist() == ["slow", "fast"] and table["importance"].tolist() == ["61.3%", "38.7%"]
    assert full_table(importances_table(pd.Series(dtype=float))).html == '<p class="wb-none"><em>none</em></p>'
