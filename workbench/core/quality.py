"""Data quality report for an OHLCV frame: gaps, duplicates, zero-volume runs, price jumps, bad bars."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypedDict

import numpy as np
import pandas as pd

from workbench.core.markets import normalize_timeframe, timeframe_offset
from workbench.errors import ValidationError

__all__ = ["QualityFinding", "QualityReport", "QualitySummary", "quality_report"]

#: The counts of :meth:`QualityReport.summary` that are findings (0: nothing found).
QualityFinding = Literal["gaps", "missing_bars", "duplicate_timestamps", "zero_volume_runs", "price_jumps",
                         "bad_bars"]


class QualitySummary(TypedDict):
    """:meth:`QualityReport.summary`: what was checked (``first``/``last`` ISO times) and the counts."""

    symbol: str
    timeframe: str
    rows: int
    first: str | None
    last: str | None
    gaps: int
    missing_bars: int
    duplicate_timestamps: int
    zero_volume_runs: int
    price_jumps: int
    bad_bars: int


@dataclass(frozen=True)
class QualityReport:
    """What :func:`quality_report` found. Each table is empty when nothing was found."""

    symbol: str
    timeframe: str
    rows: int
    first: pd.Timestamp | None
    last: pd.Timestamp | None
    gaps: pd.DataFrame = field(repr=False)
    duplicates: pd.DataFrame = field(repr=False)
    zero_volume_runs: pd.DataFrame = field(repr=False)
    price_jumps: pd.DataFrame = field(repr=False)
    bad_bars: pd.DataFrame = field(repr=False)

    @property
    def missing_bars(self) -> int:
        return int(self.gaps["missing_bars"].sum()) if len(self.gaps) else 0

    @property
    def ok(self) -> bool:
        return not any(len(t) for t in (self.gaps, self.duplicates, self.zero_volume_runs,
                                        self.price_jumps, self.bad_bars))

    def summary(self) -> QualitySummary:
        return {
            "symbol": self.symbol,
            "timeframe": self.timeframe,
            "rows": self.rows,
            "first": None if self.first is None else self.first.isoformat(),
            "last": None if self.last is None else self.last.isoformat(),
            "gaps": len(self.gaps),
            "missing_bars": self.missing_bars,
            "duplicate_timestamps": len(self.duplicates),
            "zero_volume_runs": len(self.zero_volume_runs),
            "price_jumps": len(self.price_jumps),
            "bad_bars": len(self.bad_bars),
        }

    def __str__(self) -> str:
        return "\n".join(f"{k:>22}: {v}" for k, v in self.summary().items())

    def _repr_html_(self) -> str:
        parts = [pd.Series(self.summary(), name="value").to_frame().to_html()]
        for name in ("gaps", "duplicates", "zero_volume_runs", "price_jumps", "bad_bars"):
            table = getattr(self, name)
            if len(table):
                parts.append(f"<h4>{name} ({len(table)})</h4>" + table.head(20).to_html())
        return "".join(parts)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Inclusive (start, end) positions of the runs of True in ``mask``."""
    if not mask.any():
        return []
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def quality_report(
    df: pd.DataFrame,
    timeframe: str,
    *,
    symbol: str = "",
    min_zero_volume_run: int = 3,
    jump_threshold: float = 0.10,
    jump_mad_factor: float = 15.0,
) -> QualityReport:
    """Check an OHLCV frame (index ``ts``) for the usual defects.

    Parameters
    ----------
    df : DataFrame
        Columns ``open high low close volume``, DatetimeIndex (need not be sorted or unique).
    timeframe : str
        Expected bar spacing; a longer step between consecutive bars is a gap.
    min_zero_volume_run : int
        Shortest run of consecutive zero-volume bars that is reported.
    jump_threshold : float
        Close-to-close change (as a fraction) above which a bar is a price jump.
    jump_mad_factor : float
        Also a jump: a log return more than this many median absolute deviations from the median.
    """
    tf = normalize_timeframe(timeframe)
    missing = [c for c in ("open", "high", "low", "close", "volume") if c not in df.columns]
    if missing:
        raise ValidationError(f"quality_report: frame lacks column(s) {missing}")
    if not isinstance(df.index, pd.DatetimeIndex):
        raise ValidationError("quality_report: frame must have a DatetimeIndex (ts)")
    if min_zero_volume_run < 1:
        raise ValidationError(f"min_zero_volume_run must be >= 1 (got {min_zero_volume_run})")
    step = timeframe_offset(tf)

    counts = df.index.value_counts()
    dups = counts[counts > 1].sort_index()
    duplicates = pd.DataFrame({"ts": dups.index, "count": dups.to_numpy()})

    data = df[~df.index.duplicated(keep="last")].sort_index()
    idx = pd.DatetimeIndex(data.index)   # checked above; the sorted copy's index, typed
    deltas = idx[1:] - idx[:-1]
    gap_pos = np.flatnonzero(deltas > step)
    gaps = pd.DataFrame({
        "gap_start": idx[gap_pos] + step,
        "gap_end": idx[gap_pos + 1],
        "missing_bars": ((deltas[gap_pos] // step) - 1).astype("int64"),
    })
    off_grid = np.flatnonzero((deltas < step) | (deltas % step != pd.Timedelta(0)))

    zero = (data["volume"].to_numpy() == 0)
    runs = [(a, b) for a, b in _runs(zero) if b - a + 1 >= min_zero_volume_run]
    zero_volume_runs = pd.DataFrame({
        "run_start": [idx[a] for a, _ in runs],
        "run_end": [idx[b] for _, b in runs],
        "bars": [b - a + 1 for a, b in runs],
    })

    close = data["close"].to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        logret = np.diff(np.log(close))
    finite = np.isfinite(logret)
    med = np.median(logret[finite]) if finite.any() else 0.0
    mad = np.median(np.abs(logret[finite] - med)) if finite.any() else 0.0
    change = np.expm1(logret)
    big = np.abs(change) > jump_threshold
    outlier = (np.abs(logret - med) > jump_mad_factor * mad) if mad > 0 else np.zeros_like(big)
    pos = np.flatnonzero(finite & (big | outlier))
    price_jumps = pd.DataFrame({
        "ts": idx[pos + 1],
        "prev_close": close[pos],
        "close": close[pos + 1],
        "change": change[pos],
        "reason": np.where(big[pos], "threshold", "mad_outlier"),
    })

    o, h, lo, c, v = (data[k].to_numpy(dtype="float64") for k in ("open", "high", "low", "close", "volume"))
    problems = {
        "high_below_open_close": h < np.maximum(o, c),
        "low_above_open_close": lo > np.minimum(o, c),
        "non_positive_price": (np.minimum.reduce([o, h, lo, c]) <= 0),
        "negative_volume": v < 0,
        "missing_value": np.isnan(np.vstack([o, h, lo, c, v])).any(axis=0),
    }
    rows: list[tuple[pd.Timestamp, str]] = []
    for name, mask in problems.items():
        rows.extend((idx[int(i)], name) for i in np.flatnonzero(mask))
    rows.extend((idx[int(i) + 1], "off_grid_timestamp") for i in off_grid)
    bad_bars = pd.DataFrame(rows, columns=["ts", "problem"]).sort_values("ts", ignore_index=True)

    return QualityReport(
        symbol=symbol, timeframe=tf, rows=len(df),
        first=idx[0] if len(idx) else None, last=idx[-1] if len(idx) else None,
        gaps=gaps, duplicates=duplicates, zero_volume_runs=zero_volume_runs,
        price_jumps=price_jumps, bad_bars=bad_bars,
    )
