"""The fill rules of the README, one table row per case, expected fills written by hand.

Bars are given as (open, high, low, close). ``enter``/``leave`` name the bars whose *open* acts on a
signal (the strategy raises it on the bar before). Capital 1,000,000 KRW, no fees or slippage unless a
case says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from workbench.core.backtest import BacktestConfig, run_backtest
from workbench.core.strategies import Risk, strategy

FREE = BacktestConfig(initial_capital=1_000_000, fee_rate=0.0, slippage=0.0)


def bars(rows: list[tuple[float, float, float, float]], start: str = "2025-01-01") -> pd.DataFrame:
    idx = pd.date_range(start, periods=len(rows), freq="1h", tz="UTC", name="ts")
    return pd.DataFrame(rows, columns=["open", "high", "low", "close"], index=idx).assign(volume=1.0)


@strategy("fills_at", "swing_trading")
def fills_at(df: pd.DataFrame, *, enter: tuple[int, ...] = (), leave: tuple[int, ...] = ()
             ) -> tuple[pd.Series, pd.Series]:
    """Signals on the bar before each fill bar in ``enter``/``leave``."""
    i = np.arange(len(df))
    return (pd.Series(np.isin(i + 1, enter), index=df.index),
            pd.Series(np.isin(i + 1, leave), index=df.index))


def risk(sl: float = 0.0, tp: float = 0.0, max_positions: int = 1, per_trade: float = 100.0) -> Risk:
    return Risk(risk_per_trade=per_trade, max_positions=max_positions, stop_loss_pct=sl, take_profit_pct=tp)


FLAT = (100.0, 100.5, 99.5, 100.0)


@dataclass
class Case:
    name: str
    rows: list[tuple[float, float, float, float]]
    enter: tuple[int, ...]
    leave: tuple[int, ...] = ()
    risk: Risk = field(default_factory=risk)
    config: BacktestConfig = FREE
    close_at_end: bool = False
    # expected: (entry bar, entry price, exit bar, exit price, exit reason, status) per trade
    expected: list[tuple[int, float, int, float, str, str]] = field(default_factory=list)


CASES = [
    Case("exit signal fills at the next open",
         [FLAT, (100, 101, 99, 100), (101, 102, 100, 101), (103, 104, 102, 103), FLAT],
         enter=(1,), leave=(3,), expected=[(1, 100, 3, 103, "signal", "closed")]),
    Case("gap down through the stop fills at the open",
         [FLAT, (100, 100.5, 99.5, 100), (95, 96, 94, 95.5), FLAT],
         enter=(1,), risk=risk(sl=2), expected=[(1, 100, 2, 95, "stop_loss", "closed")]),
    Case("gap up through the take-profit fills at the open",
         [FLAT, (100, 100.5, 99.5, 100), (106, 107, 105, 106), FLAT],
         enter=(1,), risk=risk(sl=2, tp=4), expected=[(1, 100, 2, 106, "take_profit", "closed")]),
    Case("stop touched within the bar fills at the stop",
         [FLAT, (100, 100.5, 99.5, 100), (100, 100.5, 97, 97.5), FLAT],
         enter=(1,), risk=risk(sl=2), expected=[(1, 100, 2, 98, "stop_loss", "closed")]),
    Case("take-profit touched within the bar fills at its price",
         [FLAT, (100, 100.5, 99.5, 100), (101, 105, 100.5, 104.5), FLAT],
         enter=(1,), risk=risk(sl=2, tp=4), expected=[(1, 100, 2, 104, "take_profit", "closed")]),
    Case("stop and take-profit in the same bar: the stop first",
         [FLAT, (100, 100.5, 99.5, 100), (100, 105, 97, 101), FLAT],
         enter=(1,), risk=risk(sl=2, tp=4), expected=[(1, 100, 2, 98, "stop_loss", "closed")]),
    Case("exit signal at the open beats a take-profit later in the bar",
         [FLAT, (100, 100.5, 99.5, 100), (101, 105, 100.5, 104), FLAT],
         enter=(1,), leave=(2,), risk=risk(sl=2, tp=4), expected=[(1, 100, 2, 101, "signal", "closed")]),
    Case("exit signal at the open beats a stop later in the bar",
         [FLAT, (100, 100.5, 99.5, 100), (99, 99.5, 90, 91), FLAT],
         enter=(1,), leave=(2,), risk=risk(sl=2), expected=[(1, 100, 2, 99, "signal", "closed")]),
    Case("the stop is live on the entry bar",
         [FLAT, (100, 100.5, 95, 96), FLAT],
         enter=(1,), risk=risk(sl=2), expected=[(1, 100, 1, 98, "stop_loss", "closed")]),
    Case("the take-profit is live on the entry bar",
         [FLAT, (100, 105, 99.5, 104.5), FLAT],
         enter=(1,), risk=risk(sl=2, tp=4), expected=[(1, 100, 1, 104, "take_profit", "closed")]),
    Case("entry-bar stop and take-profit both touched: the stop",
         [FLAT, (100, 105, 95, 100), FLAT],
         enter=(1,), risk=risk(sl=2, tp=4), expected=[(1, 100, 1, 98, "stop_loss", "closed")]),
    Case("stops are set from the fill price (with slippage)",
         [FLAT, (100, 100.5, 99.5, 100), (100, 100.5, 98.01, 99)],
         enter=(1,), risk=risk(sl=2), config=BacktestConfig(initial_capital=1_000_000, fee_rate=0, slippage=0.01),
         # entry 100 * 1.01 = 101; stop 101 * 0.98 = 98.98, touched (low 98.01); fill 98.98 * 0.99
         expected=[(1, 101, 2, 98.98 * 0.99, "stop_loss", "closed")]),
    Case("a position open at the end is reported open, marked at the last close",
         [FLAT, (100, 100.5, 99.5, 100), (102, 103, 101, 102.5)],
         enter=(1,), expected=[(1, 100, 2, 102.5, "", "open")]),
    Case("close_at_end closes it at the last close",
         [FLAT, (100, 100.5, 99.5, 100), (102, 103, 101, 102.5)],
         enter=(1,), close_at_end=True, expected=[(1, 100, 2, 102.5, "end", "closed")]),
    Case("re-entry at the open right after an exit at the same open",
         [FLAT, (100, 100.5, 99.5, 100), (102, 103, 101, 102), (104, 105, 103, 104)],
         enter=(1, 2), leave=(2,), expected=[(1, 100, 2, 102, "signal", "closed"), (2, 102, 3, 104, "", "open")]),
    Case("no entry while a position is held",
         [FLAT, (100, 100.5, 99.5, 100), (102, 103, 101, 102), (104, 105, 103, 104)],
         enter=(1, 2), expected=[(1, 100, 3, 104, "", "open")]),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fill_rules(case: Case) -> None:
    df = bars(case.rows)
    r = run_backtest(df, fills_at(enter=case.enter, leave=case.leave, risk=case.risk), case.config,
                     timeframe="1h", close_at_end=case.close_at_end)
    got = [(df.index.get_loc(t.entry_time), t.entry_price,
            len(df) - 1 if pd.isna(t.exit_time) else df.index.get_loc(t.exit_time), t.exit_price,
            t.exit_reason, t.status) for t in r.trades.itertuples()]
    assert len(got) == len(case.expected), got
    for g, e in zip(got, case.expected, strict=True):
        assert g[0] == e[0] and g[2] == e[2] and g[4:] == e[4:], (g, e)
        assert g[1] == pytest.approx(e[1], rel=1e-12) and g[3] == pytest.approx(e[3], rel=1e-12), (g, e)
    # the trade list, the metrics and the equity agree
    assert r.metrics.total_trades == len(r.trades)
    assert r.metrics.open_trades == int((r.trades["status"] == "open").sum())
    assert r.trades["pnl"].sum() == pytest.approx(r.equity.iloc[-1] - 1_000_000, abs=1e-6)


def test_fees_and_slippage_per_side_by_hand() -> None:
    df = bars([FLAT, (100, 100.5, 99.5, 100), (100, 100.5, 99.5, 100), FLAT])
    cfg = BacktestConfig(initial_capital=1_000_000, fee_rate=0.0025, slippage=0.001)
    r = run_backtest(df, fills_at(enter=(1,), leave=(2,), risk=risk()), cfg, timeframe="1h")
    t = r.trades.iloc[0]
    entry = 100 * 1.001
    size = 1_000_000 / (entry * 1.0025)                 # all the cash, fee included
    exit_ = 100 * 0.999
    fees = size * entry * 0.0025 + size * exit_ * 0.0025
    assert t["entry_price"] == pytest.approx(entry) and t["exit_price"] == pytest.approx(exit_)
    assert t["size"] == pytest.approx(size) and t["fees"] == pytest.approx(fees)
    assert r.equity.iloc[-1] == pytest.approx(1_000_000 - size * entry * 0.0025 + size * (exit_ - entry)
                                              - size * exit_ * 0.0025)
    assert r.metrics.total_fees == pytest.approx(fees)


def test_whole_unit_sizes() -> None:
    df = bars([FLAT, (300, 301, 299, 300), FLAT])
    cfg = BacktestConfig(initial_capital=1_000, fee_rate=0.0, slippage=0.0, size_step=1)
    r = run_backtest(df, fills_at(enter=(1,), risk=risk()), cfg, timeframe="1h")
    assert r.trades["size"].iloc[0] == 3                 # 1,000 / 300 = 3.33 -> 3 units


@strategy("all_at", "swing_trading")
def all_at(df: pd.DataFrame, *, bar: int = 1) -> tuple[pd.Series, pd.Series]:
    i = np.arange(len(df))
    return pd.Series(i + 1 == bar, index=df.index), pd.Series(False, index=df.index)


def test_simultaneous_entries_fill_in_symbol_order_up_to_max_positions() -> None:
    rows = [FLAT, (100, 100.5, 99.5, 100), FLAT, FLAT]
    data = {s: bars(rows) for s in ("KRW-AAA", "KRW-BBB", "KRW-CCC")}
    r = run_backtest(data, all_at(bar=1, risk=risk(max_positions=2)), FREE, timeframe="1h")
    assert list(r.trades["symbol"]) == ["KRW-AAA", "KRW-BBB"]          # the third has no slot
    # each gets 1 / max_positions of the equity at the open: 500,000 KRW = 5,000 units at 100
    assert list(r.trades["size"]) == pytest.approx([5_000, 5_000])


def test_slot_freed_at_the_open_is_reused_at_that_open_but_not_one_freed_later_in_the_bar() -> None:
    a_rows = [FLAT, (100, 100.5, 99.5, 100), (100, 100.5, 97, 97.5), FLAT, FLAT]   # A stops out in bar 2
    b_rows = [FLAT, FLAT, FLAT, (100, 100.5, 99.5, 100), FLAT]
    c_rows = [FLAT, FLAT, FLAT, FLAT, FLAT]
    data = {"KRW-AAA": bars(a_rows), "KRW-BBB": bars(b_rows), "KRW-CCC": bars(c_rows)}

    @strategy("per_symbol", "swing_trading")
    def per_symbol(df: pd.DataFrame, *, unused: int = 0) -> tuple[pd.Series, pd.Series]:
        i = np.arange(len(df))
        # every symbol signals an entry for bar 1 and bar 2's open; only A's comes first in symbol order
        return pd.Series((i + 1 == 1) | (i + 1 == 2), index=df.index), pd.Series(False, index=df.index)

    r = run_backtest(data, per_symbol(risk=risk(sl=2, max_positions=1, per_trade=2)), FREE, timeframe="1h")
    # bar 1: A enters (the only slot); bar 2: the slot is still taken at the open (A stops out later in
    # the bar), so B and C do not enter; nothing signals later
    assert list(r.trades["symbol"]) == ["KRW-AAA"]
    assert r.trades["exit_reason"].iloc[0] == "stop_loss"


def test_untradeable_bars_take_no_entries() -> None:
    full = bars([FLAT] * 6)
    gappy = full.drop(full.index[[1]])          # KRW-BBB has no bar 1
    r = run_backtest({"KRW-AAA": full, "KRW-BBB": gappy}, all_at(bar=1, risk=risk(max_positions=2)), FREE,
                     timeframe="1h")
    # A's signal is for bar 1; B's own bar 1 is the shared bar 2 (its bars are counted on its own frame)
    assert list(zip(r.trades["symbol"], r.trades["entry_time"], strict=True)) == [
        ("KRW-AAA", full.index[1]), ("KRW-BBB", full.index[2])]


def test_slot_freed_by_a_gap_through_the_stop_is_reused_at_that_open() -> None:
    a_rows = [FLAT, (100, 100.5, 99.5, 100), (95, 96, 94, 95.5), FLAT]   # A gaps through its stop at bar 2
    data = {"KRW-AAA": bars(a_rows), "KRW-BBB": bars([FLAT] * 4)}

    @strategy("a_then_b", "swing_trading")
    def a_then_b(df: pd.DataFrame, *, unused: int = 0) -> tuple[pd.Series, pd.Series]:
        i = np.arange(len(df))
        wanted = 1 if df["close"].iloc[2] == 95.5 else 2          # A for bar 1, B for bar 2
        return pd.Series(i + 1 == wanted, index=df.index), pd.Series(False, index=df.index)

    r = run_backtest(data, a_then_b(risk=risk(sl=2, max_positions=1, per_trade=2)), FREE, timeframe="1h")
    assert list(zip(r.trades["symbol"], r.trades["exit_reason"], strict=True)) == [
        ("KRW-AAA", "stop_loss"), ("KRW-BBB", "")]
    assert r.trades["entry_time"].iloc[1] == data["KRW-BBB"].index[2]
    # B gets the whole equity at that open: 1,000,000 - 5 * 10,000 (A lost 5 per unit on 10,000 units)
    assert r.trades["size"].iloc[1] * 100 == pytest.approx(950_000)
