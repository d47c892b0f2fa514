"""Recording of the indicator values a piece of code computes, for the lookahead and warm-up checks
(:mod:`workbench.core.strategies.lookahead`).

Inside :func:`record_indicators` every call of a workbench indicator (the outermost one, not the calls an
indicator makes itself) is kept under a label naming it and its arguments, e.g. ``ema(close, 21)``;
:func:`track` adds any other Series under a name of the caller's choosing. Outside the block both cost
one context lookup and record nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pandas as pd

__all__ = ["Recording", "record_call", "record_indicators", "track"]

R = TypeVar("R")


@dataclass
class Recording:
    """Labelled outputs in the order they were computed (a repeated label gets ``#2``, ``#3``...)."""

    series: dict[str, pd.Series] = field(default_factory=dict)
    depth: int = 0

    def add(self, label: str, value: object) -> None:
        if isinstance(value, pd.DataFrame):
            for col in value.columns:
                self.add(f"{label}.{col}", value[col])
            return
        if not isinstance(value, pd.Series):
            return
        key, n = label, 1
        while key in self.series:
            n += 1
            key = f"{label}#{n}"
        self.series[key] = value


_ACTIVE: ContextVar[Recording | None] = ContextVar("workbench_indicator_recording", default=None)


def _arg_text(value: Any) -> str:
    if isinstance(value, pd.Series):
        return str(value.name) if value.name is not None else "series"
    if isinstance(value, pd.DataFrame):
        return "frame"
    return repr(value)


def _label(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    parts = [_arg_text(a) for a in args] + [f"{k}={_arg_text(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


@contextmanager
def record_indicators() -> Iterator[Recording]:
    """Within this block, keep every indicator's output (and every :func:`track`-ed Series)."""
    rec = Recording()
    token = _ACTIVE.set(rec)
    try:
        yield rec
    finally:
        _ACTIVE.reset(token)


def record_call(name: str, func: Callable[..., R], args: tuple[object, ...], kwargs: dict[str, object]) -> R:
    """``func(*args, **kwargs)``, its output recorded under ``name(args)`` if a recording is active and
    this is not a call made by another indicator."""
    rec = _ACTIVE.get()
    if rec is None:
        return func(*args, **kwargs)
    rec.depth += 1
    try:
        result = func(*args, **kwargs)
    finally:
        rec.depth -= 1
    if rec.depth == 0:
        rec.add(_label(name, args, kwargs), result)
    return result


def track(name: str, series: pd.Series) -> pd.Series:
    """Show ``series`` to the lookahead and warm-up checks under ``name``; returns it unchanged.

    Use it in a strategy for values computed without the workbench's indicators::

        spread = track("spread", df.high.rolling(5).max() - df.low.rolling(5).min())
    """
    rec = _ACTIVE.get()
    if rec is not None and rec.depth == 0:
        rec.add(name, series)
    return series
