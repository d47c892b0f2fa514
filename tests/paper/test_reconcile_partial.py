"""Reconciliation: trades filled in parts (a volume cap) get their size difference as their own cause."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.app.paper.reconcile import CAUSES, partial_trades, reconcile_trades

T0 = pd.Timestamp("2025-01-01", tz="UTC")


def h(n: int) -> pd.Timestamp:
    return T0 + pd.Timedelta(hours=n)


def trades(rows: list[tuple[str, int, int, float, float, float, float]]) -> pd.DataFrame:
    """(symbol, entry hour, exit hour, size, entry price, exit price, fees)"""
    return pd.DataFrame([{"symbol": s, "entry_time": h(a), "exit_time": h(b), "size": q, "entry_price": e,
                          "exit_price": x, "fees": f} for s, a, b, q, e, x, f in rows])


def test_partial_trades_counts_buys_and_sells_per_trade() -> None:
    t = trades([("A", 1, 3, 10, 100, 110, 0), ("A", 3, 5, 10, 110, 120, 0), ("B", 1, 2, 1, 1, 1, 0)])
    fills = pd.DataFrame([("A", h(1), "buy"), ("A", h(3), "sell"), ("A", h(3), "buy"), ("A", h(4), "buy"),
                          ("A", h(5), "sell"), ("B", h(1), "buy"), ("B", h(2), "sell")],
                         columns=["symbol", "ts", "side"])
    # A's first trade: one buy (hour 1), one sell (hour 3); the buy at hour 3 is the second trade's, which
    # also bought at hour 4: filled in parts
    assert partial_trades(t, fills).tolist() == [False, True, False]


def test_size_difference_of_a_partially_filled_trade_is_its_own_cause() -> None:
    # backtest bought 10 units at 100 and sold at 110 (PnL 100); paper got only 6 of them (volume cap)
    # and paid 101 (PnL 6 * 9 = 54); the other trade differs in size without parts: 2 units more at a
    # 5-unit gain
    bt = trades([("A", 1, 3, 10, 100, 110, 0), ("B", 1, 3, 4, 50, 55, 0)]).assign(partial=False)
    paper = trades([("A", 1, 3, 6, 101, 110, 0), ("B", 1, 3, 6, 50, 55, 0)]).assign(partial=[True, False])
    matched, _, _, d = reconcile_trades(paper, bt)
    assert list(d.index) == list(CAUSES)
    assert d["partial_fills"] == pytest.approx((6 - 10) * (110 - 100))     # -40
    assert d["size"] == pytest.approx((6 - 4) * (55 - 50))                 # 10
    assert d["entry_price"] == pytest.approx(-6 * (101 - 100))             # -6
    assert d.sum() == pytest.approx((54 + 30) - (100 + 20))
