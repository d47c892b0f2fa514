"""Bithumb order rules and the paper broker with them on, against values worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.app.paper.book import walk_book
from workbench.core.backtest import BacktestConfig
from workbench.core.paper.engine import Fill, PaperBroker, Skip
from workbench.core.paper.rules import OrderRules, round_price, round_quantity, tick_size
from workbench.core.strategies import Risk
from workbench.errors import ValidationError

T0 = pd.Timestamp("2025-01-01", tz="UTC")
H = pd.Timedelta(hours=1)


@pytest.mark.parametrize(("price", "tick"), [
    (95_000_000.0, 1000.0), (1_000_000.0, 1000.0), (999_999.0, 500.0), (500_000.0, 500.0), (120_000.0, 100.0),
    (77_000.0, 50.0), (12_345.0, 10.0), (7_777.0, 5.0), (4_321.7, 1.0), (555.55, 0.1), (55.5, 0.01),
    (5.5, 0.001), (0.5, 0.0001),
])
def test_tick_size_by_price_level(price: float, tick: float) -> None:
    assert tick_size(price) == tick


def test_round_price_against_the_trader() -> None:
    assert round_price(95_123_456.0, "buy") == 95_124_000.0
    assert round_price(95_123_456.0, "sell") == 95_123_000.0
    assert round_price(7_777.0, "buy") == 7_780.0 and round_price(7_777.0, "sell") == 7_775.0
    assert round_price(555.55, "buy") == 555.6 and round_price(555.55, "sell") == 555.5
    assert round_price(95_000_000.0, "buy") == 95_000_000.0       # on the grid: unchanged
    assert round_price(0.12345, "sell") == 0.1234


def test_round_quantity_down() -> None:
    assert round_quantity(0.010494, 4) == 0.0104
    assert round_quantity(3.0, 4) == 3.0
    assert round_quantity(0.99999, 2) == 0.99


def test_rules_validate() -> None:
    with pytest.raises(ValidationError, match="min_order_krw"):
        OrderRules(min_order_krw=-1)
    with pytest.raises(ValidationError, match="quantity_decimals"):
        OrderRules(quantity_decimals=20)
    assert not OrderRules.off().active and OrderRules().active
    assert OrderRules.from_dict(OrderRules().to_dict()) == OrderRules()


def _broker(capital: float, max_positions: int = 1, **rules: object) -> PaperBroker:
    return PaperBroker(["KRW-BTC"], Risk(risk_per_trade=100, max_positions=max_positions, stop_loss_pct=0,
                                         take_profit_pct=0),
                       BacktestConfig(initial_capital=capital, fee_rate=0.0025, slippage=0.0005),
                       OrderRules(**rules))  # type: ignore[arg-type]


def test_buy_with_ticks_and_quantity_precision() -> None:
    b = _broker(1_000_000.0)
    b.signal("KRW-BTC", entry=True, exit=False)
    (fill,) = b.on_bar(T0, {"KRW-BTC": (95_000_000.0, 95_500_000.0, 94_800_000.0, 95_200_000.0)})
    assert isinstance(fill, Fill)
    # 95,000,000 x 1.0005 = 95,047,500 -> buy tick 1,000 up: 95,048,000
    assert fill.price == 95_048_000.0
    # 1,000,000 / (95,048,000 x 1.0025) = 0.0104946... -> 4 decimals down: 0.0104
    assert fill.quantity == 0.0104
    assert fill.fee == pytest.approx(0.0104 * 95_048_000 * 0.0025, abs=1e-9)      # 2,471.248 KRW
    assert b.cash == pytest.approx(1_000_000 - 0.0104 * 95_048_000 - 2_471.248, abs=1e-6)
    b.signal("KRW-BTC", entry=False, exit=True)
    (sell,) = b.on_bar(T0 + H, {"KRW-BTC": (96_000_000.0, 96_100_000.0, 95_900_000.0, 96_050_000.0)})
    # 96,000,000 x 0.9995 = 95,952,000 -> sell tick down: 95,952,000 (on the grid)
    assert sell.price == 95_952_000.0 and sell.reason == "signal"
    assert sell.pnl == pytest.approx(0.0104 * (95_952_000 - 95_048_000) - 2_471.248 - 0.0104 * 95_952_000 * 0.0025)


def test_buy_below_the_minimum_is_rejected() -> None:
    b = _broker(200_000.0, max_positions=50)          # 1/50 of 200,000 = 4,000 KRW < 5,000
    b.signal("KRW-BTC", entry=True, exit=False)
    (skip,) = b.on_bar(T0, {"KRW-BTC": (3_000.0, 3_010.0, 2_990.0, 3_005.0)})
    assert isinstance(skip, Skip) and skip.status == "rejected"
    assert "below Bithumb's minimum of 5,000 KRW" in skip.reason
    assert b.cash == 200_000.0 and not b.positions
    off = _broker(200_000.0, max_positions=50, min_order_krw=0.0)
    off.signal("KRW-BTC", entry=True, exit=False)
    (fill,) = off.on_bar(T0, {"KRW-BTC": (3_000.0, 3_010.0, 2_990.0, 3_005.0)})
    assert isinstance(fill, Fill) and fill.price == 3_002.0           # 3,001.5 -> tick 1 up


def test_entry_while_holding_is_cancelled_and_slots_are_respected() -> None:
    b = _broker(1_000_000.0, tick_sizes=False, quantity_decimals=None)
    b.signal("KRW-BTC", entry=True, exit=False)
    b.on_bar(T0, {"KRW-BTC": (100.0, 101.0, 99.0, 100.0)})
    b.signal("KRW-BTC", entry=True, exit=False)
    (skip,) = b.on_bar(T0 + H, {"KRW-BTC": (100.0, 101.0, 99.0, 100.0)})
    assert isinstance(skip, Skip) and skip.status == "cancelled" and "already open" in skip.reason


def test_walk_book() -> None:
    asks = [[100.0, 1.0], [101.0, 2.0], [103.0, 1.0]]
    assert walk_book(asks, 0.5) == 100.0
    assert walk_book(asks, 2.0) == pytest.approx((100.0 + 101.0) / 2)
    assert walk_book(asks, 5.0) == pytest.approx((100 + 2 * 101 + 103 + 103) / 5)   # thin book: rest at 103
    assert walk_book([], 1.0) is None
