"""Higher-timeframe bars for a strategy, aligned to its own bars without lookahead.

A strategy decides on each of its bars' close. A higher-timeframe bar ``[S, S + H)`` is known once its
last base bar has closed, i.e. from the base bar starting at ``S + H - base`` on: a 1h strategy's bar
at 10:00 (closing at 11:00) sees the 4h bar 04:00-08:00, not 08:00-12:00, which its 11:00 bar (closing
at 12:00) is the first to see. Bars are bucketed as the database buckets them
(:data:`workbench.core.markets.BUCKET_ORIGIN` + k x timeframe)::

    h4 = resample_bars(df, "4h")                       # 4h bars built from the strategy's own bars
    trend = align_higher(df, ema(h4["close"], 20), "4h")   # the 4h EMA as each 1h close knows it
    up = df["close"] > trend

or ``higher_timeframe(df, "4h")`` for the aligned OHLCV of the last completed 4h bar.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar, cast

from workbench.errors import ValidationError

if TYPE_CHECKING:  # pandas (and markets, which imports it) where bars are handled: listing strategies needs none
    import pandas as pd

__all__ = ["align_higher", "base_timeframe", "higher_timeframe", "resample_bars"]

F = TypeVar("F", "pd.Series", "pd.DataFrame")


def _check_frame(df: pd.DataFrame, what: str) -> None:
    import pandas as pd

    if not isinstance(df.index, pd.DatetimeIndex) or df.index.tz is None:
        raise ValidationError(f"{what}: the bars need a UTC DatetimeIndex (got {type(df.index).__name__})")
    if not df.index.is_monotonic_increasing or df.index.has_duplicates:
        raise ValidationError(f"{what}: the bars' timestamps must be increasing and unique")


def base_timeframe(df: pd.DataFrame) -> pd.Timedelta:
    """The bar length of ``df``: ``df.attrs["timeframe"]`` if set, else its smallest step between bars."""
    import pandas as pd

    from workbench.core.markets import timeframe_offset

    tf = df.attrs.get("timeframe")
    if tf:
        return timeframe_offset(str(tf))
    if len(df.index) < 2:
        raise ValidationError(f"cannot tell the timeframe of {len(df.index)} bar(s); pass base=")
    step = pd.Timedelta(df.index.to_series().diff().min())
    return step


def resample_bars(df: pd.DataFrame, timeframe: str) -> pd.DataFrame:
    """``df``'s bars bucketed into ``timeframe`` bars (open of the first, highest high, lowest low, close
    of the last, summed volume), indexed by each bucket's start. The last bucket may be incomplete:
    :func:`align_higher` never shows a bucket before it is complete."""
    import pandas as pd

    from workbench.core.markets import BUCKET_ORIGIN, normalize_timeframe, timeframe_offset

    _check_frame(df, f"resample_bars({timeframe!r})")
    length = timeframe_offset(normalize_timeframe(timeframe))
    index = cast("pd.DatetimeIndex", df.index)   # checked by _check_frame
    starts = BUCKET_ORIGIN + ((index - BUCKET_ORIGIN) // length) * length
    rules = {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
    missing = [c for c in rules if c not in df.columns]
    if missing:
        raise ValidationError(f"resample_bars({timeframe!r}): the bars lack column(s) {missing}")
    out: pd.DataFrame = df[list(rules)].groupby(pd.DatetimeIndex(starts, name=df.index.name), sort=True).agg(rules)
    return out


def align_higher(df: pd.DataFrame, values: F, timeframe: str, *, base: str | None = None) -> F:
    """``values`` (a Series or frame indexed by the starts of ``timeframe`` bars, e.g. an indicator of
    :func:`resample_bars`) on ``df``'s bars: each bar gets the value of the last ``timeframe`` bar that
    had closed by its own close (NaN before the first). ``base`` is ``df``'s timeframe (default:
    :func:`base_timeframe`)."""
    import numpy as np
    import pandas as pd

    from workbench.core.markets import normalize_timeframe, timeframe_offset

    _check_frame(df, f"align_higher({timeframe!r})")
    length = timeframe_offset(normalize_timeframe(timeframe))
    step = timeframe_offset(normalize_timeframe(base)) if base is not None else base_timeframe(df)
    if length <= step or length % step:
        raise ValidationError(f"timeframe {timeframe!r} must be a multiple of the bars' own timeframe "
                              f"({step}) and longer")
    if not isinstance(values.index, pd.DatetimeIndex):
        raise ValidationError(f"align_higher({timeframe!r}): values need the {timeframe} bars' start times "
                              "as index")
    if len(values) == 0:
        return values.reindex(df.index).astype("float64")
    index = cast("pd.DatetimeIndex", df.index)   # checked by _check_frame
    known_from = (values.index + (length - step)).as_unit(index.unit).asi8
    pos = np.searchsorted(known_from, index.asi8, side="right") - 1
    taken = values.iloc[np.maximum(pos, 0)]
    out = taken.set_axis(df.index, axis=0)
    mask = pos < 0
    if mask.any():
        out = out.astype("float64") if isinstance(out, pd.Series) else out.astype(
            {c: "float64" for c in out.columns})
        out.iloc[np.flatnonzero(mask)] = np.nan
    return out


def higher_timeframe(df: pd.DataFrame, timeframe: str, *, base: str | None = None) -> pd.DataFrame:
    """OHLCV of the last completed ``timeframe`` bar at each of ``df``'s bars (see the module doc)."""
    return align_higher(df, resample_bars(df, timeframe), timeframe, base=base)
