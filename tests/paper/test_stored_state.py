"""Paper state and order rules read back from the database (JSON): a faithful round trip, and a stored value
of the wrong shape raises ValidationError with one line naming it (never a TypeError or KeyError)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from workbench.core.backtest import BacktestConfig
from workbench.core.paper.engine import PaperBroker
from workbench.core.paper.portfolio import PortfolioBook, portfolio_rules
from workbench.core.paper.rules import OrderRules
from workbench.core.strategies import Risk
from workbench.errors import ValidationError

T0 = pd.Timestamp("2025-01-01", tz="UTC")


def _broker() -> PaperBroker:
    return PaperBroker(["KRW-BTC"], Risk(risk_per_trade=100, max_positions=1, stop_loss_pct=0, take_profit_pct=0),
                       BacktestConfig(initial_capital=1_000_000.0, fee_rate=0.0025, slippage=0.0005), OrderRules())


def _json(value: object) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(json.dumps(value))
    return loaded


def test_order_rules_round_trip_through_json() -> None:
    rules = OrderRules(tick_sizes=False, min_order_krw=1_000.0, quantity_decimals=None, walk_book=False,
                       ticks=((0.0, 1.0), (1_000.0, 5.0)))
    assert OrderRules.from_dict(_json(rules.to_dict())) == rules
    assert OrderRules.from_dict({}) == OrderRules()


@pytest.mark.parametrize(("stored", "message"), [
    ({"min_order_krw": "lots"}, "order rules min_order_krw must be a number (got 'lots')"),
    ({"tick_sizes": 1}, "order rules tick_sizes must be true or false (got 1)"),
    ({"quantity_decimals": 2.5}, "order rules quantity_decimals must be an integer (got 2.5)"),
    ({"ticks": [[0, 1, 2]]}, "order rules ticks must be [price floor, tick size] pairs"),
    ({"ticks": 5}, "order rules ticks must be a JSON array (got int)"),
    ({"walk": True}, "order rules: unknown key(s) walk"),
])
def test_order_rules_from_bad_json_name_the_value(stored: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as err:
        OrderRules.from_dict(stored)
    assert str(err.value) == message


def test_broker_state_round_trips_through_json_with_a_position() -> None:
    b = _broker()
    b.signal("KRW-BTC", entry=True, exit=False)
    (fill,) = b.on_bar(T0, {"KRW-BTC": (95_000_000.0, 95_500_000.0, 94_800_000.0, 95_200_000.0)})
    assert fill.quantity == 0.0104   # the hand-checked buy of tests/paper/test_rules.py
    state = b.to_state()
    resumed = _broker()
    resumed.load_state(_json(state))
    assert resumed.to_state() == state
    assert resumed.positions["KRW-BTC"].entry_time == T0 and resumed.positions["KRW-BTC"].size == 0.0104


def test_broker_state_of_lists_written_before_order_types_still_loads() -> None:
    b = _broker()
    b.load_state({"cash": 5.0, "positions": {}, "pending_entry": ["KRW-BTC"], "pending_exit": [],
                  "last_close": {"KRW-BTC": 1.0}, "peak_equity": 5.0, "max_drawdown": 0.0, "equity": 5.0})
    assert b.cash == 5.0 and b.pending_entry["KRW-BTC"].kind == "market" and b.pending_exit == {}
    assert b.bar_no == 0 and b.last_atr == {}


def _good() -> dict[str, object]:
    b = _broker()
    b.signal("KRW-BTC", entry=True, exit=False)
    b.on_bar(T0, {"KRW-BTC": (95_000_000.0, 95_500_000.0, 94_800_000.0, 95_200_000.0)})
    return _json(b.to_state())


def _position_with(key: str, value: object) -> dict[str, object]:
    state = _good()
    positions = state["positions"]
    assert isinstance(positions, dict)
    positions["KRW-BTC"][key] = value
    return state


@pytest.mark.parametrize(("state", "message"), [
    ({**_good(), "cash": "much"}, "paper state cash must be a number (got 'much')"),
    ({k: v for k, v in _good().items() if k != "equity"}, "paper state lacks equity"),
    ({**_good(), "positions": [1]}, "paper state positions must be a JSON object (got list)"),
    ({**_good(), "last_close": {"KRW-BTC": [1]}}, "paper state last_close.KRW-BTC must be a number (got list)"),
    ({**_good(), "bar_no": 1.5}, "paper state bar_no must be an integer (got 1.5)"),
    (_position_with("size", {}), "paper state positions.KRW-BTC.size must be a number (got dict)"),
    (_position_with("entry_time", "soon"), "paper state positions.KRW-BTC.entry_time is not a time (got 'soon')"),
])
def test_bad_broker_state_names_the_value(state: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as err:
        _broker().load_state(state)
    assert str(err.value) == message


def _book() -> PortfolioBook:
    rules, config = portfolio_rules(OrderRules(), BacktestConfig(initial_capital=1_000_000.0))
    return PortfolioBook(["KRW-BTC", "KRW-ETH"], config, rules)


def test_portfolio_state_round_trips_through_json() -> None:
    state = {"cash": 100.0, "equity": 1_000.0, "peak": 1_200.0, "max_drawdown": -0.25,
             "last_rebalanced": "2025-01-06", "position": {"KRW-ETH": 0.5}}
    book = _book()
    book.load_state(_json(state))
    assert book.to_state() == state
    np.testing.assert_array_equal(book.position, [0.0, 0.5])


@pytest.mark.parametrize(("state", "message"), [
    ({"cash": 1.0, "equity": 1.0, "peak": 1.0}, "paper portfolio state lacks max_drawdown"),
    ({"cash": 1.0, "equity": True, "peak": 1.0, "max_drawdown": 0.0},
     "paper portfolio state equity must be a number (got bool)"),
    ({"cash": 1.0, "equity": 1.0, "peak": 1.0, "max_drawdown": 0.0, "position": {"KRW-BTC": "x"}},
     "paper portfolio state position.KRW-BTC must be a number (got 'x')"),
    ({"cash": 1.0, "equity": 1.0, "peak": 1.0, "max_drawdown": 0.0, "last_rebalanced": 3},
     "paper portfolio state last_rebalanced must be a string (got int)"),
])
def test_bad_portfolio_state_names_the_value(state: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as err:
        _book().load_state(state)
    assert str(err.value) == message
