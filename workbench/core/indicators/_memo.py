"""Memoised indicators within a scope: a parameter sweep computes ``ema(close, 21)`` once, not once per
combination. Outside :func:`indicator_cache` every call computes (the memo costs one context lookup)."""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

import numpy as np
import pandas as pd

from workbench.core.indicators._record import record_call

__all__ = ["IndicatorCacheStats", "indicator_cache", "memoized"]

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class IndicatorCacheStats:
    hits: int = 0
    misses: int = 0
    bytes: int = 0
    entries: OrderedDict[Hashable, tuple[Any, tuple[Any, ...]]] = field(default_factory=OrderedDict, repr=False)


_ACTIVE: ContextVar[tuple[IndicatorCacheStats, int] | None] = ContextVar("workbench_indicator_cache",
                                                                          default=None)


def _pointer(arr: np.ndarray) -> Hashable:
    return (arr.__array_interface__["data"][0], arr.shape, arr.strides, arr.dtype.str)


def _index_key(index: pd.Index) -> Hashable:
    if isinstance(index, pd.DatetimeIndex):
        return ("dt", str(index.tz), _pointer(index.asi8))
    if isinstance(index, pd.RangeIndex):
        return ("range", index.start, index.stop, index.step)
    return ("index", id(index))  # other indexes: only the same object matches


def _key(value: Any) -> Hashable:
    if isinstance(value, pd.Series | pd.DataFrame):
        return (type(value).__name__, _pointer(value.to_numpy()), _index_key(value.index),
                tuple(map(str, value.columns)) if isinstance(value, pd.DataFrame) else value.name)
    if isinstance(value, np.ndarray):
        return ("ndarray", _pointer(value))
    return ("value", type(value).__name__, value)


def _size(value: Any) -> int:
    if isinstance(value, pd.Series | pd.DataFrame):
        return int(value.memory_usage(index=False, deep=False).sum()) if isinstance(value, pd.DataFrame) \
            else int(value.memory_usage(index=False, deep=False))
    return 64


def _shallow(value: R) -> R:
    if isinstance(value, pd.Series | pd.DataFrame):
        return value.copy(deep=False)  # type: ignore[return-value]  # a copy of R is an R (mypy cannot narrow a TypeVar by isinstance)
    return value


@contextmanager
def indicator_cache(max_bytes: int = 512 * 2**20) -> Iterator[IndicatorCacheStats]:
    """Within this block, indicator calls with the same inputs (the same data in memory) and parameters
    return the first result; the least recently used results are dropped past ``max_bytes``."""
    stats = IndicatorCacheStats()
    token = _ACTIVE.set((stats, max_bytes))
    try:
        yield stats
    finally:
        _ACTIVE.reset(token)
        stats.entries.clear()


def memoized(func: Callable[P, R]) -> Callable[P, R]:
    """Decorator for indicator functions: served from the active :func:`indicator_cache`, if any (and
    recorded by an active :func:`workbench.core.indicators._record.record_indicators`)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return record_call(func.__name__, cached, args, kwargs)

    def cached(*args: P.args, **kwargs: P.kwargs) -> R:
        active = _ACTIVE.get()
        if active is None:
            return func(*args, **kwargs)
        stats, max_bytes = active
        try:
            key: Hashable = (func.__qualname__, tuple(_key(a) for a in args),
                             tuple(sorted((k, _key(v)) for k, v in kwargs.items())))
            hash(key)
        except TypeError:   # an unhashable parameter: compute
            return func(*args, **kwargs)
        found = stats.entries.get(key)
        if found is not None:
            stats.entries.move_to_end(key)
            stats.hits += 1
            hit: R = found[0]
            return _shallow(hit)
        stats.misses += 1
        result = func(*args, **kwargs)
        # the inputs are kept alive with the result, so their memory (part of the key) is not reused
        stats.entries[key] = (result, (args, tuple(kwargs.values())))
        stats.bytes += _size(result)
        while stats.bytes > max_bytes and len(stats.entries) > 1:
            _, (old, _) = stats.entries.popitem(last=False)
            stats.bytes -= _size(old)
        return _shallow(result)

    return wrapper
