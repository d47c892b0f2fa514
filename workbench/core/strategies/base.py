"""Strategy abstraction.

A strategy turns an OHLCV frame into entry/exit signals computed from each bar's close. The framework
shifts them one bar (:meth:`Strategy.signals`), so an order is placed at the *next* bar's open: a
signal can never use the bar it trades on, nor any later one.

Define one as a class::

    class MyCross(Strategy):
        strategy_type = "day_trading"
        defaults = {"fast": 8, "slow": 21}

        def generate(self, df):
            fast, slow = ema(df.close, self.params["fast"]), ema(df.close, self.params["slow"])
            return crossed_above(fast, slow), crossed_below(fast, slow)

or, in a notebook, with the :func:`strategy` decorator on a plain function.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal, SupportsIndex, cast, get_args

import numpy as np

from workbench.core.checks import MAX_POSITIONS, PARAMETER, PERIOD, RISK_PER_TRADE, STOP_LOSS, TAKE_PROFIT
from workbench.errors import StrategyError, ValidationError

if TYPE_CHECKING:  # pandas is imported where signals are computed: listing strategies needs none of it
    import pandas as pd

    from workbench.core.strategies.orders import Orders

__all__ = [
    "SIZINGS",
    "STRATEGY_TYPES",
    "FunctionStrategy",
    "Risk",
    "Sizing",
    "Strategy",
    "StrategyType",
    "crossed_above",
    "crossed_below",
    "strategy",
]

StrategyType = Literal["scalping", "day_trading", "swing_trading", "long_term"]
STRATEGY_TYPES: Final[tuple[str, ...]] = get_args(StrategyType)
_REGISTRY: dict[str, type[Strategy]] = {}  # function strategies made by @strategy in this process


Sizing = Literal["risk", "fraction", "fixed_krw", "vol_target", "signal"]
SIZINGS: Final[tuple[str, ...]] = get_args(Sizing)
#: the fields stored in the ``strategies`` table's own columns; the others only when not at their default
_RISK_COLUMNS: Final = ("risk_per_trade", "max_positions", "stop_loss_pct", "take_profit_pct")


@dataclass(frozen=True, slots=True)
class Risk:
    """Risk, exit and sizing settings, in percent as in the ``strategies`` table.

    ``risk_per_trade``: % of equity lost if a position hits its stop; sets the position size with
    ``sizing="risk"`` (``risk_per_trade / stop_loss_pct`` of equity, at most ``1 / max_positions``).
    ``max_positions``: positions open at once across all symbols of a backtest.
    ``stop_loss_pct`` / ``take_profit_pct``: exits relative to the entry price (0 disables).
    ``trailing_stop_pct``: a stop that trails the highest high since entry by this % (0: none), or
    ``trailing_atr`` times the ``atr_period``-bar ATR (0: none). ``max_bars``: exit at the open once
    a position was held this many bars (0: never).
    ``sizing`` (README "Sizing"): ``risk`` (above), ``fraction`` (``position_pct`` % of equity),
    ``fixed_krw`` (``position_krw`` KRW), ``vol_target`` (``vol_target_pct`` % annualised volatility
    of the position over ``vol_lookback`` bars, at most ``1 / max_positions`` of equity), ``signal``
    (the fraction of equity the strategy gives with each entry, :class:`~workbench.core.strategies.orders.Orders`
    ``size``; an entry without one: as ``risk``). Every size is at most the cash left.
    """

    risk_per_trade: float = 2.0
    max_positions: int = 5
    stop_loss_pct: float = 2.0
    take_profit_pct: float = 4.0
    trailing_stop_pct: float = 0.0
    trailing_atr: float = 0.0
    atr_period: int = 14
    max_bars: int = 0
    sizing: Sizing = "risk"
    position_pct: float = 0.0
    position_krw: float = 0.0
    vol_target_pct: float = 0.0
    vol_lookback: int = 20

    def __post_init__(self) -> None:  # noqa: C901
        try:
            RISK_PER_TRADE.check(self.risk_per_trade, "risk_per_trade")
            if not isinstance(self.max_positions, int | np.integer):
                raise ValidationError(f"max_positions must be an integer (got {self.max_positions!r})")
            MAX_POSITIONS.check(self.max_positions, "max_positions")
            STOP_LOSS.check(self.stop_loss_pct, "stop_loss_pct")
            TAKE_PROFIT.check(self.take_profit_pct, "take_profit_pct")
        except ValidationError as err:
            raise StrategyError(str(err)) from None
        if not 0 <= self.trailing_stop_pct < 100:
            raise StrategyError(f"trailing_stop_pct must be in [0, 100) percent (got {self.trailing_stop_pct})")
        if not 0 <= self.trailing_atr < float("inf"):
            raise StrategyError(f"trailing_atr must be an ATR multiple >= 0 (got {self.trailing_atr})")
        if self.trailing_stop_pct > 0 and self.trailing_atr > 0:
            raise StrategyError("trailing stop: give trailing_stop_pct or trailing_atr, not both")
        for key in ("atr_period", "vol_lookback"):
            v = getattr(self, key)
            if not isinstance(v, int | np.integer) or v < 2:
                raise StrategyError(f"{key} must be a whole number of bars >= 2 (got {v!r})")
        if not isinstance(self.max_bars, int | np.integer) or self.max_bars < 0:
            raise StrategyError(f"max_bars must be a whole number of bars >= 0 (got {self.max_bars!r})")
        if self.sizing not in SIZINGS:
            raise StrategyError(f"sizing must be one of {SIZINGS} (got {self.sizing!r})")
        needs = {"fraction": ("position_pct", 100.0), "fixed_krw": ("position_krw", float("inf")),
                 "vol_target": ("vol_target_pct", float("inf"))}
        if self.sizing in needs:
            key, top = needs[self.sizing]
            v = getattr(self, key)
            if not 0 < v <= top or v == float("inf"):
                raise StrategyError(f"sizing {self.sizing!r} needs {key} in (0, {top:g}] (got {v})")

    @property
    def position_fraction(self) -> float:
        """Fraction of equity put into one position (``sizing`` risk or fraction; the default of the
        others)."""
        if self.sizing == "fraction":
            return self.position_pct / 100.0
        cap = 1.0 / self.max_positions
        if self.stop_loss_pct <= 0:
            return cap
        return min(self.risk_per_trade / self.stop_loss_pct, cap)

    def to_dict(self) -> dict[str, float | int | str]:
        """The settings; the fields beyond the four stored columns only where not at their default."""
        d = {k: getattr(self, k) for k in _RISK_DEFAULTS}   # asdict's deep copy of numbers: 10x slower
        return {k: v for k, v in d.items() if k in _RISK_COLUMNS or v != _RISK_DEFAULTS[k]}

    def extras(self) -> dict[str, float | int | str]:
        """The non-default settings beyond the ``strategies`` table's four columns."""
        return {k: v for k, v in self.to_dict().items() if k not in _RISK_COLUMNS}


_RISK_DEFAULTS: Final[dict[str, Any]] = {k: f.default for k, f in Risk.__dataclass_fields__.items()}


def _numeric(s: object) -> bool:
    import pandas as pd

    return isinstance(s, pd.Series) and isinstance(s.dtype, np.dtype) and s.dtype.kind in "fiu"


def _crossed(a: pd.Series, b: pd.Series | float, above: bool) -> pd.Series | None:
    """:func:`crossed_above` (``above``) or :func:`crossed_below` on the numpy arrays of numeric Series on
    the same index (or a number), without pandas' per-operation cost (a sweep calls it once per symbol and
    combination); None when the inputs are not of that kind (the pandas rule then decides)."""
    import pandas as pd

    if not _numeric(a):
        return None
    if isinstance(b, pd.Series):
        if not _numeric(b) or not (b.index is a.index or b.index.equals(a.index)):
            return None
        name = a.name if a.name == b.name else None
        bv = b.to_numpy(dtype="float64")
        now_b: np.ndarray | float = bv[1:]
        prev_b: np.ndarray | float = bv[:-1]
    elif isinstance(b, int | float | np.integer | np.floating) and not isinstance(b, bool):
        name = a.name
        now_b = prev_b = float(b)
    else:
        return None
    av = a.to_numpy(dtype="float64")
    out = np.zeros(len(av), dtype=bool)      # the first bar has no previous one: False
    if above:
        np.logical_and(av[1:] > now_b, av[:-1] <= prev_b, out=out[1:])
    else:
        np.logical_and(av[1:] < now_b, av[:-1] >= prev_b, out=out[1:])
    return pd.Series(out, index=a.index, name=name)


def crossed_above(a: pd.Series, b: pd.Series | float) -> pd.Series:
    """True on the bar where ``a`` moves from <= ``b`` to > ``b`` (NaN-safe: False)."""
    import pandas as pd

    fast = _crossed(a, b, True)
    if fast is not None:
        return fast
    prev_a = a.shift(1)
    prev_b = b.shift(1) if isinstance(b, pd.Series) else b
    return ((a > b) & (prev_a <= prev_b)).fillna(False).astype(bool)


def crossed_below(a: pd.Series, b: pd.Series | float) -> pd.Series:
    """True on the bar where ``a`` moves from >= ``b`` to < ``b`` (NaN-safe: False)."""
    import pandas as pd

    fast = _crossed(a, b, False)
    if fast is not None:
        return fast
    prev_a = a.shift(1)
    prev_b = b.shift(1) if isinstance(b, pd.Series) else b
    return ((a < b) & (prev_a >= prev_b)).fillna(False).astype(bool)


class Strategy(ABC):
    """Base class: declare ``strategy_type`` and ``defaults``, implement :meth:`generate`.

    Parameters
    ----------
    name : str, optional
        Defaults to the class name.
    risk : Risk, optional
    description : str, optional
    **params
        Overrides of ``defaults``; unknown names raise StrategyError.
    """

    strategy_type: ClassVar[StrategyType]
    defaults: ClassVar[Mapping[str, Any]] = {}
    description: ClassVar[str] = ""

    def __init__(self, *, name: str | None = None, risk: Risk | None = None, description: str | None = None,
                 **params: object) -> None:
        if getattr(self, "strategy_type", None) not in STRATEGY_TYPES:
            raise StrategyError(f"{type(self).__name__}.strategy_type must be one of {STRATEGY_TYPES}")
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            raise StrategyError(f"{type(self).__name__}: unknown parameter(s) {unknown}; "
                                f"known: {sorted(self.defaults)}")
        self.name = name or type(self).__name__
        self.risk = risk or Risk()
        self.params: dict[str, Any] = {**self.defaults, **params}
        if description is not None:
            self.description = description  # type: ignore[misc]  # the instance's own shadows the ClassVar
        self.validate_params()

    def validate_params(self) -> None:
        """Check ``self.params``; raise StrategyError naming the bad one. Override to add rules.

        A parameter whose default is a number must be a finite number (:data:`workbench.core.checks.PARAMETER`);
        periods and windows (``*period*``, ``fast``, ``slow``, ``signal``, ``trend``, ``window``) whole
        numbers of bars (:data:`workbench.core.checks.PERIOD`).
        """
        for key, value in self.params.items():
            default = self.defaults[key]
            if isinstance(default, int | float) and not isinstance(default, bool):
                if not isinstance(value, int | float | np.integer | np.floating) or isinstance(value, bool):
                    raise StrategyError(f"{self.name}: parameter {key!r} must be a number (got {value!r})")
                periodic = "period" in key or key in ("fast", "slow", "signal", "trend", "window")
                bound = PERIOD if periodic else PARAMETER
                if not bound.contains(value):
                    shown = repr(value) if len(repr(value)) <= 40 else f"{repr(value)[:30]}..."
                    raise StrategyError(f"{self.name}: parameter {key!r} must be {bound.describe()} (got {shown})")

    @abstractmethod
    def generate(self, df: pd.DataFrame) -> tuple[pd.Series, pd.Series] | Orders:
        """Raw ``(entries, exits)`` boolean Series, decided on each bar's close; or an
        :class:`~workbench.core.strategies.orders.Orders` adding order prices and sizes."""

    def decision_arrays(self, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """:meth:`decisions` as arrays, no frame (a sweep's hot path): boolean ``entry`` and ``exit``, and
        the order columns of :class:`~workbench.core.strategies.orders.Orders` as float arrays (NaN: none)."""
        import pandas as pd

        from workbench.core.strategies.orders import ORDER_FIELDS, Orders

        missing = [c for c in ("open", "high", "low", "close", "volume") if c not in df.columns]
        if missing:
            raise StrategyError(f"{self.name}: data lacks column(s) {missing}")
        raw = self.generate(df)
        entries, exits = raw
        out = []
        for label, s in (("entry", entries), ("exit", exits)):
            if not isinstance(s, pd.Series) or not s.index.equals(df.index):
                raise StrategyError(f"{self.name}.generate must return two Series on the frame's index "
                                    f"({label} was {type(s).__name__})")
            out.append(s.to_numpy() if s.dtype == np.bool_ else s.fillna(False).astype(bool).to_numpy())
        orders: dict[str, np.ndarray] = {}
        if isinstance(raw, Orders):
            for label in ORDER_FIELDS:
                s = getattr(raw, label)
                if s is None:
                    continue
                if not isinstance(s, pd.Series) or not s.index.equals(df.index):
                    raise StrategyError(f"{self.name}: Orders.{label} must be a Series on the frame's index "
                                        f"(got {type(s).__name__})")
                values = s.to_numpy(dtype="float64", na_value=np.nan)
                bad = (values <= 0) | np.isinf(values)
                if bad.any():
                    at = int(np.flatnonzero(bad)[0])
                    raise StrategyError(f"{self.name}: Orders.{label} must be a positive finite number or NaN "
                                        f"(got {values[at]} at {df.index[at]})")
                orders[label] = values
        return out[0], out[1], orders

    def decisions(self, df: pd.DataFrame) -> pd.DataFrame:
        """:meth:`generate`'s ``entry``/``exit`` as checked booleans, on the bar whose close decides them;
        with :class:`~workbench.core.strategies.orders.Orders`, also its price and size columns (NaN: none)."""
        import pandas as pd

        entry, exit_, orders = self.decision_arrays(df)
        return pd.DataFrame({"entry": entry, "exit": exit_, **orders}, index=df.index)

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        """Entry/exit signals to act on at each bar's open: :meth:`decisions` shifted by one bar (order
        prices and sizes too, NaN where none)."""
        decided = self.decisions(df)
        import pandas as pd

        return pd.DataFrame({c: decided[c].shift(1, fill_value=False) if c in ("entry", "exit")
                             else decided[c].shift(1) for c in decided.columns}, index=decided.index)

    def with_params(self, **params: object) -> Strategy:
        """A copy with some parameters changed."""
        return type(self)(name=self.name, risk=self.risk, **{**self.params, **params})

    def with_risk(self, **risk: object) -> Strategy:
        # Risk's own checks (__post_init__) reject a bad value with its name
        return type(self)(name=self.name, risk=replace(self.risk, **cast("dict[str, Any]", risk)), **self.params)

    @property
    def class_path(self) -> str:
        """``module:Name``, or ``/path/to/file.py:Name`` for a strategy of a user's file."""
        cls = type(self)
        source = cls.__dict__.get("__strategy_source__")
        if source is not None:
            return f"{source.file}:{cls.__qualname__}"
        return f"{cls.__module__}:{cls.__qualname__}"

    def __reduce_ex__(self, protocol: SupportsIndex) -> str | tuple[object, ...]:
        """A strategy of a user's file pickles as (file, content hash, class name, state): the receiving
        process imports the file itself (see :func:`workbench.core.strategies.registry.rebuild`)."""
        source = type(self).__dict__.get("__strategy_source__")
        if source is None:
            return super().__reduce_ex__(protocol)
        from workbench.core.strategies.registry import rebuild

        return rebuild, (source, type(self).__qualname__, dict(self.__dict__))

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({params}; {self.strategy_type}; {self.risk})"


class FunctionStrategy(Strategy):
    """A strategy made from a function ``f(df, **params) -> (entries, exits)`` by :func:`strategy`."""

    func: ClassVar[Callable[..., tuple[pd.Series, pd.Series]]]

    def generate(self, df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        return type(self).func(df, **self.params)


def strategy(name: str, strategy_type: StrategyType, *, description: str = "") -> Callable[
        [Callable[..., tuple[pd.Series, pd.Series]]], type[Strategy]]:
    """Make a Strategy class from a function; its keyword defaults become the parameters.

    >>> @strategy("dip_buyer", "swing_trading")
    ... def dip_buyer(df, *, drop=0.05):
    ...     change = df.close.pct_change(24)
    ...     return change < -drop, change > drop
    >>> dip_buyer(drop=0.1).params
    {'drop': 0.1}
    """
    if strategy_type not in STRATEGY_TYPES:
        raise StrategyError(f"strategy_type must be one of {STRATEGY_TYPES} (got {strategy_type!r})")

    def wrap(func: Callable[..., tuple[pd.Series, pd.Series]]) -> type[Strategy]:
        sig = inspect.signature(func)
        defaults = {k: p.default for k, p in list(sig.parameters.items())[1:]
                    if p.default is not inspect.Parameter.empty}
        cls = type(name, (FunctionStrategy,), {
            "strategy_type": strategy_type,
            "defaults": defaults,
            "description": description or (func.__doc__ or "").strip(),
            "func": staticmethod(func),
            "__module__": func.__module__,
            "__qualname__": name,
        })
        _REGISTRY[f"{func.__module__}:{name}"] = cls
        return cls

    return wrap


def registered(path: str) -> type[Strategy] | None:
    """A function strategy defined in this process, by ``module:name``."""
    return _REGISTRY.get(path)
