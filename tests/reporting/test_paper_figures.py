"""The reconciliation figures: the slippage histogram by hand, and an empty one that says "none"."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.core.paper.reconcile import Reconciliation
from workbench.present.paper_figures import slippage_figure

_COLUMNS = ["symbol", "entry_time", "entry_price_p", "entry_price_b", "exit_price_p", "exit_price_b"]


def _rec(rows: list[list[object]]) -> Reconciliation:
    matched = pd.DataFrame(rows, columns=_COLUMNS)
    return Reconciliation(matched, pd.DataFrame(), pd.DataFrame(), pd.Series(dtype=float), paper_pnl=0.0,
                          backtest_pnl=0.0)


def test_slippage_in_basis_points_positive_when_worse() -> None:
    # bought 0.1 % dearer (+10 bps worse), sold 0.2 % cheaper (+20 bps worse)
    fig = slippage_figure(_rec([["KRW-BTC", pd.Timestamp("2025-01-01", tz="UTC"), 1001.0, 1000.0, 998.0, 1000.0]]))
    entry, exit_ = fig.data
    assert list(entry.x) == pytest.approx([10.0]) and list(exit_.x) == pytest.approx([20.0])
    assert not fig.layout.annotations


def test_no_matched_trades_says_none_instead_of_bare_axes() -> None:
    fig = slippage_figure(_rec([]))
    assert [a.text for a in fig.layout.annotations] == [
        "none: no trade matched between the paper run and the backtest"]
    assert fig.layout.xaxis.visible is False and fig.layout.yaxis.visible is False
