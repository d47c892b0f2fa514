"""Order types, volume caps and sizings, one table row per case, expected fills written by hand.

As in ``test_fills.py``: bars are (open, high, low, close); ``enter``/``leave`` name the bars whose open
acts on a signal (raised on the bar before); ``limit``/``stop``/``exit_limit``/``size`` give a price or
size per acting bar. Capital 1,000,000 KRW, no fees or slippage, one position of all the equity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from workbench.core.backtest import BacktestConfig, run_backtest
from workbench.core.strategies import Orders, Risk, strategy
from workbench.errors import ValidationError

FREE = BacktestConfig(initial_capital=1_000_000, fee_rate=0.0, slippage=0.0)
FLAT = (100.0, 100.5, 99.5, 100.0)


def bars(rows: list[tuple[float, float, float, float]], volume: float | list[float] = 1e9,
         freq: str = "1h") -> pd.DataFrame:
    idx = pd.date_range("2025-01-01", periods=len(rows), freq=freq, tz="UTC", name="ts")
    return pd.DataFrame(rows, columns=["open", "high", "low", "close"], index=idx).assign(volume=volume)


def _series(df: pd.DataFrame, at: tuple[tuple[int, float], ...]) -> pd.Series | None:
    if not at:
        return None
    values = np.full(len(df), np.nan)
    for bar, price in at:
        values[bar - 1] = price          # decided on the bar before the one it acts on
    return pd.Series(values, index=df.index)


@strategy("orders_at", "swing_trading")
def orders_at(df: pd.DataFrame, *, enter: tuple[int, ...] = (), leave: tuple[int, ...] = (),
              limit: tuple[tuple[int, float], ...] = (), stop: tuple[tuple[int, float], ...] = (),
              exit_limit: tuple[tuple[int, float], ...] = (), size: tuple[tuple[int, float], ...] = ()) -> Orders:
    i = np.arange(len(df))
    return Orders(pd.Series(np.isin(i + 1, enter), index=df.index), pd.Series(np.isin(i + 1, leave), index=df.index),
                  limit=_series(df, limit), stop=_series(df, stop), exit_limit=_series(df, exit_limit),
                  size=_series(df, size))


def risk(**kw: float) -> Risk:
    base = {"risk_per_trade": 100.0, "max_positions": 1, "stop_loss_pct": 0.0, "take_profit_pct": 0.0}
    return Risk(**{**base, **kw})


@dataclass
class Case:
    name: str
    rows: list[tuple[float, float, float, float]]
    enter: tuple[int, ...]
    leave: tuple[int, ...] = ()
    orders: dict[str, tuple[tuple[int, float], ...]] = field(default_factory=dict)
    risk: Risk = field(default_factory=risk)
    # expected: (entry bar, entry price, exit bar, exit price, exit reason, status) per trade
    expected: list[tuple[int, float, int, float, str, str]] = field(default_factory=list)


CASES = [
    Case("buy limit touched within the bar fills at the limit",
         [FLAT, (100, 101, 97, 99), FLAT], enter=(1,), orders={"limit": ((1, 98.0),)},
         expected=[(1, 98, 2, 100, "", "open")]),
    Case("buy limit gapped through fills at the open",
         [FLAT, (96, 97, 95, 96), FLAT], enter=(1,), orders={"limit": ((1, 98.0),)},
         expected=[(1, 96, 2, 100, "", "open")]),
    Case("buy limit not reached waits for a later bar",
         [FLAT, (100, 101, 99, 100), (100, 100.5, 99.5, 100), (99, 99.5, 97.5, 98), FLAT],
         enter=(1,), orders={"limit": ((1, 98.0),)}, expected=[(3, 98, 4, 100, "", "open")]),
    Case("a new entry signal replaces the waiting order",
         [FLAT, (100, 101, 99.5, 100), (100, 100.5, 96, 97), (99.5, 100, 98.5, 99), (94, 95, 93, 94)],
         enter=(1, 3), orders={"limit": ((1, 95.0), (3, 99.0))}, expected=[(3, 99, 4, 94, "", "open")]),
    Case("an exit signal cancels the waiting order",
         [FLAT, (100, 101, 99.5, 100), (100, 100.5, 99.5, 100), (95, 95.5, 94, 95)],
         enter=(1,), leave=(2,), orders={"limit": ((1, 96.0),)}, expected=[]),
    Case("buy stop touched within the bar fills at the stop",
         [FLAT, (100, 103, 99, 102), FLAT], enter=(1,), orders={"stop": ((1, 102.0),)},
         expected=[(1, 102, 2, 100, "", "open")]),
    Case("buy stop gapped through fills at the open",
         [FLAT, (104, 105, 103, 104), FLAT], enter=(1,), orders={"stop": ((1, 102.0),)},
         expected=[(1, 104, 2, 100, "", "open")]),
    Case("a NaN price is a market order",
         [FLAT, (101, 102, 100, 101), FLAT], enter=(1, 2), orders={"limit": ((2, 90.0),)},
         expected=[(1, 101, 2, 100, "", "open")]),
    Case("stops of a limit entry are live from the next bar",
         [FLAT, (100, 100.5, 95, 96), (96, 96.5, 90, 91), FLAT], enter=(1,), orders={"limit": ((1, 98.0),)},
         risk=risk(stop_loss_pct=2), expected=[(1, 98, 2, 96, "stop_loss", "closed")]),
    Case("sell limit touched within the bar fills at the limit",
         [FLAT, FLAT, (101, 102, 100, 101), (102, 104, 101, 103), FLAT],
         enter=(1,), leave=(2,), orders={"exit_limit": ((2, 103.0),)},
         expected=[(1, 100, 3, 103, "limit", "closed")]),
    Case("sell limit gapped through fills at the open",
         [FLAT, FLAT, (101, 102, 100, 101), (105, 106, 104, 105), FLAT],
         enter=(1,), leave=(2,), orders={"exit_limit": ((2, 103.0),)},
         expected=[(1, 100, 3, 105, "limit", "closed")]),
    Case("a market exit signal beats a waiting sell limit",
         [FLAT, FLAT, (101, 102, 100, 101), (101, 102, 100, 101), FLAT],
         enter=(1,), leave=(2, 3), orders={"exit_limit": ((2, 103.0),)},
         expected=[(1, 100, 3, 101, "signal", "closed")]),
    Case("take-profit below the sell limit: the take-profit",
         [FLAT, FLAT, (101, 106, 100, 105), FLAT],
         enter=(1,), leave=(2,), orders={"exit_limit": ((2, 105.0),)}, risk=risk(take_profit_pct=3),
         expected=[(1, 100, 2, 103, "take_profit", "closed")]),
    # trailing 5 %: level 95 at entry; after bar 1 the highest high is 100.5 (level 95.475); after bar 2,
    # 110 (level 104.5); bar 3's low 104 reaches it
    Case("trailing stop follows the highest high since entry",
         [FLAT, FLAT, (101, 110, 100, 109), (108, 108.5, 104, 105), FLAT],
         enter=(1,), risk=risk(trailing_stop_pct=5), expected=[(1, 100, 3, 104.5, "trailing_stop", "closed")]),
    Case("trailing stop gapped through fills at the open",
         [FLAT, FLAT, (101, 110, 100, 109), (103, 103.5, 102, 103), FLAT],
         enter=(1,), risk=risk(trailing_stop_pct=5), expected=[(1, 100, 3, 103, "trailing_stop", "closed")]),
    Case("trailing stop never falls",
         [FLAT, FLAT, (101, 110, 100, 109), (108, 108.5, 105, 106), (106, 107, 104.6, 105), (105, 105.5, 104.6, 105)],
         enter=(1,), risk=risk(trailing_stop_pct=5), expected=[(1, 100, 5, 105, "", "open")]),
    Case("a stop-loss above the trailing stop is the stop-loss",
         [FLAT, FLAT, (99, 99.5, 97, 98), FLAT],
         enter=(1,), risk=risk(stop_loss_pct=2, trailing_stop_pct=5),
         expected=[(1, 100, 2, 98, "stop_loss", "closed")]),
    # ATR(2) of FLAT bars is 1; entry level 100 - 2 * 1 = 98; after bar 3 the high 100.5 -> 98.5; bar 4's
    # true range 3.5 -> ATR 2.25, level max(98.5, 103 - 4.5) = 98.5; bar 5's low 98 reaches it
    Case("ATR trailing stop",
         [FLAT, FLAT, FLAT, FLAT, (100, 103, 99.5, 102.5), (102, 102.5, 98, 99), FLAT],
         enter=(3,), risk=risk(trailing_atr=2, atr_period=2),
         expected=[(3, 100, 5, 98.5, "trailing_stop", "closed")]),
    Case("exit after max_bars bars at the open",
         [FLAT, FLAT, (101, 102, 100, 101), (102, 103, 101, 102), FLAT],
         enter=(1,), risk=risk(max_bars=2), expected=[(1, 100, 3, 102, "time", "closed")]),
    Case("an exit signal before max_bars",
         [FLAT, FLAT, (101, 102, 100, 101), (102, 103, 101, 102), FLAT],
         enter=(1,), leave=(2,), risk=risk(max_bars=2), expected=[(1, 100, 2, 101, "signal", "closed")]),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_order_fills(case: Case) -> None:
    df = bars(case.rows)
    r = run_backtest(df, orders_at(enter=case.enter, leave=case.leave, risk=case.risk, **case.orders), FREE,
                     timeframe="1h")
    got = [(df.index.get_loc(t.entry_time), t.entry_price,
            len(df) - 1 if pd.isna(t.exit_time) else df.index.get_loc(t.exit_time), t.exit_price,
            t.exit_reason, t.status) for t in r.trades.itertuples()]
    assert len(got) == len(case.expected), got
    for g, e in zip(got, case.expected, strict=True):
        assert g[0] == e[0] and g[2] == e[2] and g[4:] == e[4:], (g, e)
        assert g[1] == pytest.approx(e[1], rel=1e-12) and g[3] == pytest.approx(e[3], rel=1e-12), (g, e)
    assert r.trades["pnl"].sum() == pytest.approx(r.equity.iloc[-1] - 1_000_000, abs=1e-6)
    if case.expected:      # all the equity at the entry price
        assert r.trades["size"].iloc[0] * case.expected[0][1] == pytest.approx(1_000_000)


def test_volume_cap_fills_the_rest_on_later_bars() -> None:
    """At most half of each bar's volume: a buy limit at 100 for 10,000 units fills 2,000 + 3,000 + 5,000
    over three bars (all at its price); the exit sells 4,000 at 101 and 6,000 at 102."""
    rows = [FLAT, (100, 101, 99, 100), (100.2, 101, 99.8, 100.5), (100.5, 101, 99, 99.5), FLAT,
            (101, 101.5, 100.5, 101), (102, 102.5, 101.5, 102), FLAT]
    volume = [1e9, 4_000, 6_000, 20_000, 1e9, 8_000, 20_000, 1e9]
    df = bars(rows, volume)
    cfg = BacktestConfig(initial_capital=1_000_000, fee_rate=0.0, slippage=0.0, volume_share=0.5)
    r = run_backtest(df, orders_at(enter=(1,), leave=(5,), limit=((1, 100.0),), risk=risk()), cfg, timeframe="1h")
    fills = r.fills
    assert fills is not None
    got = [(df.index.get_loc(f.ts), f.side, f.quantity, f.price, f.reason) for f in fills.itertuples()]
    assert got == [(1, "buy", 2_000, 100, "signal"), (2, "buy", 3_000, 100, "signal"), (3, "buy", 5_000, 100, "signal"),
                   (5, "sell", 4_000, 101, "signal"), (6, "sell", 6_000, 102, "signal")]
    (t,) = r.trades.itertuples()
    assert (df.index.get_loc(t.entry_time), df.index.get_loc(t.exit_time)) == (1, 6)
    assert (t.size, t.entry_price, t.exit_reason) == (10_000, 100, "signal")
    assert t.exit_price == pytest.approx(101.6, rel=1e-12) and t.pnl == pytest.approx(16_000, rel=1e-12)
    # after bar 3 all 10,000 units are held (all the cash spent), marked at the close
    assert r.equity.iloc[3] == pytest.approx(10_000 * 99.5)
    assert r.equity.iloc[5] == pytest.approx(4_000 * 101 + 6_000 * 101)      # 6,000 still held at bar 5's close
    assert r.equity.iloc[-1] == pytest.approx(1_016_000)


def test_volume_cap_market_order_waits_for_volume_and_fills_at_the_opens() -> None:
    rows = [FLAT, (100, 100.5, 99.5, 100), (101, 101.5, 100.5, 101), FLAT]
    df = bars(rows, [1e9, 5_000, 1e9, 1e9])
    cfg = BacktestConfig(initial_capital=1_000_000, fee_rate=0.0, slippage=0.0, volume_share=0.2)
    r = run_backtest(df, orders_at(enter=(1,), risk=risk()), cfg, timeframe="1h")
    assert r.fills is not None
    # bar 1: 20 % of 5,000 = 1,000 units at 100; bar 2: the rest of the 10,000, as cash allows, at 101
    rest = (1_000_000 - 100_000) / 101
    assert list(r.fills["quantity"]) == pytest.approx([1_000, rest], rel=1e-12)
    assert list(r.fills["price"]) == [100, 101]
    t = r.trades.iloc[0]
    assert t["size"] == pytest.approx(1_000 + rest, rel=1e-12)
    assert t["entry_price"] == pytest.approx(1_000_000 / (1_000 + rest), rel=1e-12)


@pytest.mark.parametrize(("sizing", "expected_units"), [
    ({"sizing": "fixed_krw", "position_krw": 250_000}, 2_500),
    ({"sizing": "fraction", "position_pct": 30}, 3_000),
    ({"sizing": "risk", "risk_per_trade": 1, "stop_loss_pct": 5, "max_positions": 2}, 2_000),  # 1 % / 5 %
    ({"sizing": "risk", "risk_per_trade": 10, "stop_loss_pct": 5, "max_positions": 2}, 5_000),  # capped at 1/2
    ({"sizing": "signal"}, 4_000),                     # the strategy's 0.4 of equity
])
def test_sizings(sizing: dict[str, float], expected_units: float) -> None:
    df = bars([FLAT, (100, 100.5, 99.5, 100), FLAT])
    r = run_backtest(df, orders_at(enter=(1,), size=((1, 0.4),), risk=risk(**sizing)), FREE, timeframe="1h")
    assert r.trades["size"].iloc[0] == pytest.approx(expected_units, rel=1e-12)


def test_signal_sizing_without_a_size_uses_the_risk_fraction() -> None:
    df = bars([FLAT, (100, 100.5, 99.5, 100), FLAT])
    r = run_backtest(df, orders_at(enter=(1,), risk=risk(sizing="signal", max_positions=4)), FREE, timeframe="1h")
    assert r.trades["size"].iloc[0] == pytest.approx(2_500, rel=1e-12)


def test_volatility_target_sizing_by_hand() -> None:
    """Daily closes alternating 100 / 102: every log return is +-ln(1.02); over 4 returns the sample
    standard deviation is ln(1.02) * sqrt(4/3); annualised with sqrt(365). Target 20 %."""
    closes = [100.0, 102.0] * 4
    rows = [(c, c + 0.5, c - 0.5, c) for c in closes]
    df = bars(rows, freq="1D")
    r = run_backtest(df, orders_at(enter=(6,), risk=risk(sizing="vol_target", vol_target_pct=20, vol_lookback=4)),
                     FREE, timeframe="1d")
    vol = math.log(1.02) * math.sqrt(4 / 3) * math.sqrt(365)
    fraction = 0.2 / vol
    t = r.trades.iloc[0]
    assert t["entry_price"] == 100.0        # bar 6's open
    assert t["size"] * 100.0 == pytest.approx(fraction * 1_000_000, rel=1e-9)


def test_volatility_target_takes_no_entry_before_the_lookback() -> None:
    df = bars([FLAT] * 5, freq="1D")
    r = run_backtest(df, orders_at(enter=(2,), risk=risk(sizing="vol_target", vol_target_pct=20, vol_lookback=4)),
                     FREE, timeframe="1d")
    assert r.trades.empty


def test_bad_order_settings_are_refused() -> None:
    with pytest.raises(ValidationError, match="volume_share"):
        BacktestConfig(volume_share=1.5)
    from workbench.errors import StrategyError

    with pytest.raises(StrategyError, match="position_krw"):
        Risk(sizing="fixed_krw")
    with pytest.raises(StrategyError, match="not both"):
        Risk(trailing_stop_pct=5, trailing_atr=2)
    df = bars([FLAT] * 3)
    with pytest.raises(StrategyError, match="Orders.limit must be a positive"):
        run_backtest(df, orders_at(enter=(1,), limit=((1, -5.0),)), FREE, timeframe="1h")
