"""Portfolio strategies: one strategy sees every symbol at once and returns target weights.

A :class:`PortfolioStrategy` gets :class:`PortfolioBars` (wide frames, one column per symbol, NaN where a
symbol has no stored bar yet or any more) and returns, from :meth:`PortfolioStrategy.target_weights`, a
frame of target weights decided on each bar's close (a row of NaN: no decision on that bar). The engine
(:func:`workbench.core.backtest.portfolio.run_portfolio_backtest`) trades towards them at the next bar's open,
on the schedule of the ``rebalance`` and ``threshold`` parameters::

    class TopTwo(PortfolioStrategy):
        strategy_type = "swing_trading"
        defaults = {"lookback": 24, "rebalance": "daily", "threshold": 0.0}

        def target_weights(self, bars):
            mom = bars.close / bars.close.shift(self.params["lookback"]) - 1
            top = mom.rank(axis=1, ascending=False, method="first") <= 2
            return top.astype(float).where(mom.notna().any(axis=1), None) / 2

Long-only (Bithumb KRW markets are spot): weights are >= 0 and sum to at most 1 (the rest is cash).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final

import numpy as np

from workbench.core.strategies.base import Risk, Strategy
from workbench.errors import StrategyError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PORTFOLIO_STRATEGIES", "PERIOD_SCHEDULES", "EqualWeight", "InverseVolatility", "MomentumRotation",
           "PortfolioBars", "PortfolioStrategy", "TargetWeights"]

#: the calendar schedules of ``rebalance`` (UTC periods; the first bar of a new period trades)
PERIOD_SCHEDULES: Final[tuple[str, ...]] = ("daily", "weekly", "monthly")

#: weights may sum to 1 plus this much (float noise)
_SUM_TOLERANCE: Final = 1e-9


@dataclass(frozen=True, eq=False)
class PortfolioBars:
    """The universe's bars on one shared index: ``open high low close volume`` (bars x symbols), NaN before
    a symbol's first stored bar and after its last; ``listed`` is True in between. A bar a listed symbol
    did not have is flat at its last close with zero volume (as in single-symbol backtests)."""

    open: pd.DataFrame
    high: pd.DataFrame
    low: pd.DataFrame
    close: pd.DataFrame
    volume: pd.DataFrame
    listed: pd.DataFrame

    @property
    def index(self) -> pd.DatetimeIndex:
        return self.close.index  # type: ignore[return-value]  # the panel's DatetimeIndex

    @property
    def symbols(self) -> list[str]:
        return [str(c) for c in self.close.columns]

    def returns(self) -> pd.DataFrame:
        """Close-to-close returns (NaN on a symbol's first bar and outside its listing)."""
        return self.close / self.close.shift(1) - 1.0


class PortfolioStrategy(Strategy):
    """Base class of portfolio strategies: implement :meth:`target_weights`.

    Parameters every portfolio strategy has (in ``defaults``; override the values there):
    ``rebalance``: ``"daily"``, ``"weekly"``, ``"monthly"`` (UTC calendar periods), a whole number N of
    bars, or ``"signal"`` (on every bar the strategy decides, i.e. every row of weights that is not all
    NaN); ``threshold``: with a value above 0, a scheduled rebalance happens only when some symbol's
    weight at the previous close is more than ``threshold`` (absolute, e.g. 0.05 = 5 points) away from
    its target. ``risk`` (stops, sizing) does not apply to portfolio strategies.
    """

    defaults: ClassVar[Mapping[str, Any]] = {"rebalance": "weekly", "threshold": 0.0}

    def validate_params(self) -> None:
        params = self.params
        self.params = {k: v for k, v in params.items() if k != "rebalance"}  # a number or a name
        try:
            super().validate_params()
        finally:
            self.params = params
        for key in ("rebalance", "threshold"):
            if key not in self.params:
                raise StrategyError(f"{type(self).__name__}.defaults must include {key!r} (portfolio schedule)")
        rebalance = self.params["rebalance"]
        if isinstance(rebalance, bool) or not (
                rebalance in PERIOD_SCHEDULES or rebalance == "signal"
                or (isinstance(rebalance, int | np.integer) and rebalance >= 1)):
            raise StrategyError(f"{self.name}: parameter 'rebalance' must be one of "
                                f"{', '.join((*PERIOD_SCHEDULES, 'signal'))} or a whole number of bars >= 1 "
                                f"(got {rebalance!r})")
        threshold = self.params["threshold"]
        if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 <= threshold < 1:
            raise StrategyError(f"{self.name}: parameter 'threshold' must be a fraction in [0, 1) "
                                f"(got {threshold!r})")

    @abstractmethod
    def target_weights(self, bars: PortfolioBars) -> pd.DataFrame:
        """Target weights (bars x symbols) decided on each bar's close; a row of NaN: no decision."""

    def generate(self, df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        raise StrategyError(f"{self.name} is a portfolio strategy: it has no per-symbol signals (it gives target "
                            "weights across the universe; backtests, sweeps, optimize, walk-forward and paper runs "
                            "take it)")

    def weights(self, bars: PortfolioBars) -> pd.DataFrame:
        """:meth:`target_weights`, checked (numbers >= 0, each row's sum at most 1) and point in time: a
        symbol's weight is 0 on a bar where it is not listed; NaN inside a decided row is 0."""
        import pandas as pd

        raw = self.target_weights(bars)
        if not isinstance(raw, pd.DataFrame) or not raw.index.equals(bars.index):
            raise StrategyError(f"{self.name}.target_weights must return a DataFrame on the bars' index "
                                f"(got {type(raw).__name__})")
        unknown = [c for c in raw.columns if c not in bars.close.columns]
        if unknown:
            raise StrategyError(f"{self.name}.target_weights returned weights of unknown symbol(s) {unknown}")
        w = raw.reindex(columns=bars.close.columns).astype("float64")
        values = w.to_numpy()
        decided = ~np.isnan(values).all(axis=1)
        values = np.where(np.isnan(values), 0.0, values)
        values = np.where(bars.listed.to_numpy(dtype=bool), values, 0.0)
        if not np.isfinite(values).all():
            raise StrategyError(f"{self.name}.target_weights returned an infinite weight at "
                                f"{bars.index[int(np.argmax(~np.isfinite(values).all(axis=1)))]}")
        if (values < 0).any():
            bar = int(np.argmax((values < 0).any(axis=1)))
            raise StrategyError(f"{self.name}.target_weights returned a negative weight at {bars.index[bar]} "
                                "(long-only: Bithumb KRW markets are spot)")
        sums = values.sum(axis=1)
        if (sums > 1.0 + _SUM_TOLERANCE).any():
            bar = int(np.argmax(sums > 1.0 + _SUM_TOLERANCE))
            raise StrategyError(f"{self.name}.target_weights: weights at {bars.index[bar]} sum to "
                                f"{sums[bar]:.6g} (at most 1: no leverage)")
        values[~decided] = np.nan
        return pd.DataFrame(values, index=bars.index, columns=bars.close.columns)


def _eligible_equal(mask: pd.DataFrame, slots: int | None = None) -> pd.DataFrame:
    """Equal weights over the True cells of each row (``1/slots`` each when given, else ``1/count``);
    rows without any True cell: NaN (no decision)."""
    count = mask.sum(axis=1)
    per = (1.0 / count) if slots is None else (1.0 / slots + 0.0 * count)
    w = mask.astype("float64").mul(per, axis=0)
    return w.where(count > 0)


class MomentumRotation(PortfolioStrategy):
    """Cross-sectional momentum: hold the ``top`` symbols with the highest return over ``lookback`` bars
    (only positive returns), ``1/top`` of the equity each; the rest in cash."""

    strategy_type = "swing_trading"
    defaults: ClassVar[dict[str, Any]] = {"lookback": 168, "top": 5, "rebalance": "weekly", "threshold": 0.0}
    description = "momentum top-N rotation across the universe"

    def validate_params(self) -> None:
        super().validate_params()
        for key in ("lookback", "top"):
            v = self.params[key]
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise StrategyError(f"{self.name}: parameter {key!r} must be a whole number >= 1 (got {v!r})")

    def target_weights(self, bars: PortfolioBars) -> pd.DataFrame:
        mom = bars.close / bars.close.shift(int(self.params["lookback"])) - 1.0
        rank = mom.where(mom > 0).rank(axis=1, ascending=False, method="first")
        w = _eligible_equal(rank <= int(self.params["top"]), slots=int(self.params["top"]))
        # no decision before any symbol has a full lookback
        return w.fillna(0.0).where(mom.notna().any(axis=1))


class InverseVolatility(PortfolioStrategy):
    """Risk parity light: every symbol with ``window`` bars of returns, weighted by 1 / the standard
    deviation of its returns over them; fully invested."""

    strategy_type = "long_term"
    defaults: ClassVar[dict[str, Any]] = {"window": 168, "rebalance": "weekly", "threshold": 0.0}
    description = "inverse-volatility weights across the universe"

    def target_weights(self, bars: PortfolioBars) -> pd.DataFrame:
        window = int(self.params["window"])
        vol = bars.returns().rolling(window, min_periods=window).std(ddof=1)
        inv = 1.0 / vol.where(vol > 0)
        return inv.div(inv.sum(axis=1), axis=0).where(inv.notna().any(axis=1))


class EqualWeight(PortfolioStrategy):
    """Equal weight across every listed symbol, rebalanced when a weight drifts more than ``threshold``
    from its target (checked on every bar by default)."""

    strategy_type = "long_term"
    defaults: ClassVar[dict[str, Any]] = {"rebalance": 1, "threshold": 0.05}
    description = "equal weight with threshold rebalancing"

    def target_weights(self, bars: PortfolioBars) -> pd.DataFrame:
        return _eligible_equal(bars.listed)


class TargetWeights(PortfolioStrategy):
    """Given weights: ``TargetWeights(frame)`` trades to the rows of ``frame`` (decided on each row's
    close; missing bars and all-NaN rows: no decision), by default on every such row (``rebalance``
    "signal"). For research with weights computed elsewhere and for comparisons with other engines."""

    strategy_type = "long_term"
    defaults: ClassVar[dict[str, Any]] = {"rebalance": "signal", "threshold": 0.0}
    description = "trade to given target weights"

    def __init__(self, frame: pd.DataFrame, *, name: str | None = None, risk: Risk | None = None,
                 description: str | None = None, **params: object) -> None:
        self.frame = frame
        super().__init__(name=name, risk=risk, description=description, **params)

    def with_params(self, **params: object) -> Strategy:
        return type(self)(self.frame, name=self.name, risk=self.risk, **{**self.params, **params})

    def with_risk(self, **risk: object) -> Strategy:
        return self

    def target_weights(self, bars: PortfolioBars) -> pd.DataFrame:
        return self.frame.reindex(index=bars.index)


#: the built-in portfolio strategies by name (listed by ``workbench strategies`` with the others)
PORTFOLIO_STRATEGIES: dict[str, type[Strategy]] = {
    cls.__name__: cls for cls in (MomentumRotation, InverseVolatility, EqualWeight)
}
