"""Search spaces and fold evaluation for a parameter search (pure: the optimiser itself lives outside)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from workbench.core.backtest.config import BacktestConfig
from workbench.core.backtest.data import MarketData
from workbench.core.backtest.engine import run_backtest
from workbench.core.backtest.result import BacktestResult
from workbench.core.backtest.stats import daily_returns
from workbench.core.backtest.walkforward import _window
from workbench.core.checks import PARAMETER
from workbench.core.strategies.base import Strategy
from workbench.errors import ValidationError

__all__ = ["FoldScore", "ParamSpec", "SpaceLike", "backtest_window", "evaluate_folds", "fold_windows", "parse_space",
           "split_holdout"]

ParamValue = int | float | str | bool
SpaceLike = Mapping[str, "ParamSpec | tuple[float, float] | range | Sequence[ParamValue] | str"]


@dataclass(frozen=True)
class ParamSpec:
    """One parameter's range: ``int``/``float`` between ``low`` and ``high`` (inclusive; ``step``, ``log``)
    or ``categorical`` over ``choices``."""

    name: str
    kind: Literal["int", "float", "categorical"]
    low: float = 0.0
    high: float = 0.0
    step: float | None = None
    log: bool = False
    choices: tuple[ParamValue, ...] = ()

    def __post_init__(self) -> None:
        if self.kind == "categorical":
            if not self.choices:
                raise ValidationError(f"search space: {self.name!r} needs at least one choice")
            return
        if not self.low <= self.high:
            raise ValidationError(f"search space: {self.name!r} low {self.low} is above high {self.high}")
        if self.log and (self.low <= 0 or self.step is not None):
            raise ValidationError(f"search space: {self.name!r} log scale needs low > 0 and no step")
        if self.step is not None and not self.step > 0:
            raise ValidationError(f"search space: {self.name!r} step must be > 0 (got {self.step})")

    def describe(self) -> str:
        if self.kind == "categorical":
            return f"{self.name}=" + ",".join(map(str, self.choices))
        fmt = (lambda v: str(int(v))) if self.kind == "int" else repr
        tail = ":log" if self.log else (f":{fmt(self.step)}" if self.step is not None else "")
        return f"{self.name}={fmt(self.low)}:{fmt(self.high)}{tail}"


def _parse_number(text: str) -> int | float | None:
    """``text`` as an int or a float; None when it is not a number."""
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return None


def _number(text: str, what: str) -> int | float:
    value = _parse_number(text)
    if value is None:
        raise ValidationError(f"search space: {what}: {text[:50]!r} is not a number")
    if not PARAMETER.contains(value):
        raise ValidationError(f"search space: {what}: {text[:50]!r} must be {PARAMETER.describe()}")
    return value


def _parse_text(name: str, text: str) -> ParamSpec:
    """``3:30`` (ints), ``3:30:3`` (step), ``0.5:3.0`` (floats), ``0.001:0.1:log``, ``a,b,c`` (choices)."""
    if ":" not in text:
        items = [t.strip() for t in text.split(",") if t.strip()]
        values: list[ParamValue] = []
        for t in items:
            if _parse_number(t) is None:
                values.append({"true": True, "false": False}.get(t.lower(), t))
            else:
                values.append(_number(t, name))
        return ParamSpec(name, "categorical", choices=tuple(values))
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise ValidationError(f"search space: {name}={text!r}; use low:high, low:high:step or low:high:log")
    low, high = _number(parts[0], name), _number(parts[1], name)
    log = len(parts) == 3 and parts[2].strip().lower() == "log"
    step = None if len(parts) == 2 or log else _number(parts[2], name)
    kind: Literal["int", "float"] = ("int" if all(isinstance(v, int) for v in (low, high, step if step else 1))
                                     else "float")
    return ParamSpec(name, kind, float(low), float(high), None if step is None else float(step), log)


def parse_space(space: SpaceLike | Sequence[str]) -> dict[str, ParamSpec]:
    """A search space from ``{"fast": (3, 30), "kind": ["a", "b"], "mult": "0.5:3.0"}`` or from the CLI's
    ``["fast=3:30", "mult=0.001:0.1:log", "kind=a,b"]``. Integer bounds make an integer parameter."""
    out: dict[str, ParamSpec] = {}
    if not isinstance(space, Mapping):
        for item in space:
            name, sep, text = str(item).partition("=")
            if not sep or not name.strip() or not text.strip():
                raise ValidationError(f"search space: {item!r} is not name=low:high or name=a,b,c")
            if name.strip() in out:
                raise ValidationError(f"search space: {name.strip()!r} given twice")
            out[name.strip()] = _parse_text(name.strip(), text.strip())
    else:
        for name, value in space.items():
            if isinstance(value, ParamSpec):
                out[name] = value
            elif isinstance(value, str):
                out[name] = _parse_text(name, value)
            elif isinstance(value, range):
                if len(value) == 0:
                    raise ValidationError(f"search space: {name!r} range is empty")
                out[name] = ParamSpec(name, "int", value.start, value[-1], float(value.step))
            elif isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int | float) for v in value):
                kind: Literal["int", "float"] = "int" if all(isinstance(v, int) for v in value) else "float"
                out[name] = ParamSpec(name, kind, float(value[0]), float(value[1]))
            elif isinstance(value, Sequence):
                out[name] = ParamSpec(name, "categorical", choices=tuple(value))
            else:
                raise ValidationError(f"search space: {name!r}: {value!r} is not a (low, high) pair, a range, "
                                      "a list of choices or 'low:high'")
    if not out:
        raise ValidationError("search space is empty: give at least one parameter, e.g. fast=3:30")
    return out


def split_holdout(n_bars: int, holdout: float) -> int:
    """First bar of the held-out (out-of-sample) tail: the last ``holdout`` share of ``n_bars``."""
    if not 0.0 <= holdout < 0.9:
        raise ValidationError(f"holdout must be in [0, 0.9) (got {holdout})")
    split = n_bars - int(round(n_bars * holdout))
    if split < 20:
        raise ValidationError(f"{n_bars} bars leave {split} for the search (< 20); lower holdout or load more")
    return split


def fold_windows(n_bars: int, n_folds: int) -> list[tuple[int, int]]:
    """``n_folds`` consecutive windows ``[lo, hi)`` over ``n_bars`` bars (the walk-forward cut)."""
    if not isinstance(n_folds, int) or n_folds < 1:
        raise ValidationError(f"n_folds must be an integer >= 1 (got {n_folds!r})")
    bounds = np.linspace(0, n_bars, n_folds + 1).astype(int)
    out = [(int(bounds[i]), int(bounds[i + 1])) for i in range(n_folds)]
    if min(hi - lo for lo, hi in out) < 10:
        raise ValidationError(f"{n_bars} bars are too few for {n_folds} folds of at least 10 bars")
    return out


def backtest_window(md: MarketData, strategy: Strategy, config: BacktestConfig, lo: int, hi: int, *,
                    trade_start: int | None = None) -> BacktestResult:
    """Backtest on bars ``[lo, hi)``; with ``trade_start`` (a bar position) the bars before it are only
    indicator warm-up."""
    begin = None if trade_start is None else md.index[trade_start]
    return run_backtest(_window(md, lo, hi), strategy, config, timeframe=md.timeframe, trade_start=begin)


@dataclass(frozen=True)
class FoldScore:
    fold: int
    value: float              # the metric on this fold
    running: float            # mean over the folds so far (what a pruner sees)
    returns: pd.Series        # the fold's daily returns
    result: BacktestResult


def evaluate_folds(md: MarketData, strategy: Strategy, config: BacktestConfig, windows: Sequence[tuple[int, int]],
                   metric: str) -> Iterator[FoldScore]:
    """Backtest ``strategy`` on each window in turn, yielding the metric and its running mean (stop
    iterating to prune)."""
    values: list[float] = []
    for fold, (lo, hi) in enumerate(windows):
        result = backtest_window(md, strategy, config, lo, hi)
        value = float(result.metrics[metric])
        values.append(value)
        running = float(np.mean(values)) if all(math.isfinite(v) for v in values) else float("nan")
        yield FoldScore(fold, value, running, daily_returns(result.equity, config.initial_capital), result)
