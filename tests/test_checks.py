"""Checked numbers (workbench/core/checks.py): finite, in range, whole where they must be; messages name the
input, the range and the value. Expected messages are written out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from workbench.core.backtest import BacktestConfig
from workbench.core.checks import CAPITAL, MAX_POSITIONS, PERIOD, RECORD_ID, SPEED, Bound
from workbench.core.strategies import EmaCross, Risk
from workbench.errors import StrategyError, ValidationError


@pytest.mark.parametrize("bound, value, ok", [
    (CAPITAL, 1.0, True), (CAPITAL, 1e15, True), (CAPITAL, 1.0000001e15, False), (CAPITAL, 0.0, False),
    (CAPITAL, -1.0, False), (CAPITAL, math.inf, False), (CAPITAL, math.nan, False), (CAPITAL, 1e308, False),
    (CAPITAL, True, False), (CAPITAL, "5", False), (CAPITAL, np.float64(5e6), True), (CAPITAL, 10**400, False),
    (SPEED, 1e-3, True), (SPEED, 1e-300, False), (SPEED, 1e6, True), (SPEED, -math.inf, False),
    (PERIOD, 5, True), (PERIOD, 5.0, True), (PERIOD, 5.5, False), (PERIOD, 0, False), (PERIOD, 10**6, True),
    (PERIOD, 10**6 + 1, False), (MAX_POSITIONS, np.int64(3), True),
    (RECORD_ID, 2**63 - 1, True), (RECORD_ID, 2**63, False), (RECORD_ID, 0, False),
    (Bound(0, 1, low_open=True, high_open=True), 0.5, True), (Bound(0, 1, low_open=True, high_open=True), 1.0, False),
])
def test_bounds(bound: Bound, value: object, ok: bool) -> None:
    assert bound.contains(value) is ok
    if not ok:
        with pytest.raises(ValidationError):
            bound.check(value, "x")


def test_messages_name_the_input_the_range_and_the_value() -> None:
    with pytest.raises(ValidationError) as err:
        CAPITAL.check(math.inf, "--capital")
    assert str(err.value) == "--capital must be a finite number > 0 and <= 1e+15 KRW (got inf)"
    with pytest.raises(ValidationError) as err:
        PERIOD.check(2.5, "fast")
    assert str(err.value) == "fast must be a whole number >= 1 and <= 1000000 bars (got 2.5)"
    assert PERIOD.check(7.0, "fast") == 7 and isinstance(PERIOD.check(7.0, "fast"), int)


def test_the_api_objects_use_the_bounds() -> None:
    with pytest.raises(ValidationError) as err:
        BacktestConfig(initial_capital=math.inf)
    assert str(err.value) == "initial_capital must be a finite number > 0 and <= 1e+15 KRW (got inf)"
    with pytest.raises(ValidationError, match=r"^fee_rate must be a finite number >= 0 and < 0.1 "):
        BacktestConfig(fee_rate=math.nan)
    with pytest.raises(StrategyError) as serr:
        Risk(take_profit_pct=math.nan)
    assert str(serr.value) == "take_profit_pct must be a finite number >= 0 and <= 10000 % (got nan)"
    with pytest.raises(StrategyError) as serr:
        EmaCross(fast=math.inf)
    assert str(serr.value) == ("EmaCross: parameter 'fast' must be a whole number >= 1 and <= 1000000 bars "
                               "(got inf)")
    with pytest.raises(StrategyError, match=r"^RsiReversion: parameter 'oversold' must be a finite number"):
        from workbench.core.strategies import RsiReversion

        RsiReversion(oversold=math.nan)
