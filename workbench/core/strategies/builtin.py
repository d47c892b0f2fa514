"""Built-in strategies, at least one per strategy type.

The indicators (numba) are imported where signals are computed, so listing the strategies (their names,
types and defaults: ``workbench strategies``) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from workbench.core.strategies.base import Risk, Strategy, crossed_above, crossed_below
from workbench.core.strategies.portfolio import PORTFOLIO_STRATEGIES
from workbench.errors import StrategyError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BUILTIN_STRATEGIES",
    "builtin_strategy",
    "BollingerReversion", "EmaCross", "GoldenCross", "MacdTrend", "RsiReversion"]


class RsiReversion(Strategy):
    """Scalping: buy when RSI climbs back above ``oversold``; sell when it reaches ``exit_level``."""

    strategy_type = "scalping"
    defaults: ClassVar[dict[str, Any]] = {"period": 14, "oversold": 30.0, "exit_level": 55.0}
    description = "RSI mean reversion on short bars"

    def validate_params(self) -> None:
        super().validate_params()
        if not 0 < self.params["oversold"] < self.params["exit_level"] < 100:
            raise StrategyError(f"{self.name}: need 0 < oversold < exit_level < 100 (got {self.params})")

    def generate(self, df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        from workbench.core.indicators import rsi

        r = rsi(df["close"], int(self.params["period"]))
        return crossed_above(r, self.params["oversold"]), r > self.params["exit_level"]


class BollingerReversion(Strategy):
    """Scalping: buy a close back inside the lower band; sell at the middle band."""

    strategy_type = "scalping"
    defaults: ClassVar[dict[str, Any]] = {"period": 20, "nbdev": 2.0}
    description = "Bollinger band mean reversion"

    def generate(self, df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        from workbench.core.indicators import bollinger

        bands = bollinger(df["close"], period=int(self.params["period"]), nbdev=float(self.params["nbdev"]))
        return crossed_above(df["close"], bands["bollinger_lower"]), df["close"] > bands["bollinger_middle"]


class EmaCross(Strategy):
    """Day trading: fast EMA crossing the slow EMA."""

    strategy_type = "day_trading"
    defaults: ClassVar[dict[str, Any]] = {"fast": 8, "slow": 21}
    description = "EMA crossover"

    def validate_params(self) -> None:
        super().validate_params()
        if self.params["fast"] >= self.params["slow"]:
            raise StrategyError(f"{self.name}: fast ({self.params['fast']}) must be < slow "
                                f"({self.params['slow']})")

    def generate(self, df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        from workbench.core.indicators import ema

        fast = ema(df["close"], int(self.params["fast"]))
        slow = ema(df["close"], int(self.params["slow"]))
        return crossed_above(fast, slow), crossed_below(fast, slow)


class MacdTrend(Strategy):
    """Swing trading: MACD crossing its signal line, only above the ``trend`` EMA."""

    strategy_type = "swing_trading"
    defaults: ClassVar[dict[str, Any]] = {"fast": 12, "slow": 26, "signal": 9, "trend": 100}
    description = "MACD crossover with an EMA trend filter"

    def generate(self, df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        from workbench.core.indicators import ema, macd

        m = macd(df["close"], fast=int(self.params["fast"]), slow=int(self.params["slow"]),
                 signal=int(self.params["signal"]))
        trend = ema(df["close"], int(self.params["trend"]))
        up = crossed_above(m["macd_line"], m["macd_signal"]) & (df["close"] > trend)
        return up, crossed_below(m["macd_line"], m["macd_signal"])


class GoldenCross(Strategy):
    """Long term: 50/200 SMA golden cross in, death cross out."""

    strategy_type = "long_term"
    defaults: ClassVar[dict[str, Any]] = {"fast": 50, "slow": 200}
    description = "SMA golden cross / death cross"

    def validate_params(self) -> None:
        super().validate_params()
        if self.params["fast"] >= self.params["slow"]:
            raise StrategyError(f"{self.name}: fast must be < slow (got {self.params})")

    def generate(self, df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        from workbench.core.indicators import sma

        fast = sma(df["close"], int(self.params["fast"]))
        slow = sma(df["close"], int(self.params["slow"]))
        return crossed_above(fast, slow), crossed_below(fast, slow)


BUILTIN_STRATEGIES: dict[str, type[Strategy]] = {
    cls.__name__: cls for cls in (RsiReversion, BollingerReversion, EmaCross, MacdTrend, GoldenCross)
}


def builtin_strategy(name: str, *, risk: Risk | None = None, description: str | None = None,
                     **params: object) -> Strategy:
    """The built-in strategy called ``name`` (per-symbol or portfolio: ``PORTFOLIO_STRATEGIES``), built with
    ``risk`` and parameters ``params``."""
    known = {**BUILTIN_STRATEGIES, **PORTFOLIO_STRATEGIES}
    try:
        cls = known[name]
    except KeyError:
        raise StrategyError(f"strategy {name!r} is not one of {', '.join(known)}") from None
    return cls(name=None, risk=risk, description=description, **params)   # the instance name: the default
