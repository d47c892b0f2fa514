"""The lookahead and warm-up gate of a strategy (pure: a DataFrame in, a report out).

**Lookahead** (after freqtrade's ``lookahead-analysis``): the strategy's decisions (``generate``'s entry
and exit) and every indicator it computes (the workbench's indicators, recorded by
:func:`workbench.core.indicators.record_indicators`, and any Series passed to
:func:`workbench.core.indicators.track`) are computed once on the whole frame and again on the frame cut
after bar ``c - 1``, for many cuts ``c``. A value at a bar before the cut can only change if it used a
bar after the cut: any changed value is a leak. Half of the cuts fall right after a bar where the full
run decided an entry or an exit (the bar a leak is most likely to move), the rest evenly over the data.
Each leak says how far ahead it looked: the most bars between a changed value and the cut's last bar.

**Warm-up** (after freqtrade's ``recursive-analysis``): the same values are computed on the frame started
later (``starts`` start points), as a run with a shorter history sees them, and compared with the
full-history values from each start on. ``settle`` is the number of bars after the start from which every
value agrees within ``tolerance`` (relative); a value that never agrees within the data is "not settled"
(e.g. a cumulative sum). ``by_warmup`` grows the warm-up: the largest relative difference left after W
bars, for each W.

Only Series on the strategy's own bars are compared (an indicator of higher-timeframe bars is checked
through the aligned values and decisions that use it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.core.strategies.base import Strategy
from workbench.errors import ValidationError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DEFAULT_WARMUPS", "LookaheadReport", "check_strategy"]

#: warm-up lengths (bars) of the ``by_warmup`` table, as far as the data allows
DEFAULT_WARMUPS: tuple[int, ...] = (10, 25, 50, 100, 200, 300, 500, 750, 1000, 1500, 2000)
_DECISIONS = ("entry", "exit")


def _evaluate(strategy: Strategy, df: pd.DataFrame) -> dict[str, np.ndarray]:
    """Decisions and recorded indicator values of ``strategy`` on ``df``, as float arrays on its bars."""
    from workbench.core.indicators import record_indicators

    frame = df.copy()
    with record_indicators() as rec:
        decided = strategy.decisions(frame)
    # entry/exit, and the order prices and sizes of a strategy that returns Orders
    out = {label: decided[label].to_numpy(dtype="float64") for label in decided.columns}
    for label, series in rec.series.items():
        if len(series) == len(df) and series.index.equals(df.index):
            try:
                out[label] = series.to_numpy(dtype="float64", na_value=np.nan)
            except (TypeError, ValueError):  # not numeric: not compared
                continue
    return out


def _changed(full: np.ndarray, part: np.ndarray, rtol: float) -> np.ndarray:
    """Where two value arrays differ (NaN equals NaN; relative tolerance ``rtol``)."""
    both_nan = np.isnan(full) & np.isnan(part)
    with np.errstate(invalid="ignore"):
        close = np.abs(full - part) <= rtol * np.maximum(np.abs(full), np.abs(part))
    changed: np.ndarray = ~(both_nan | close)
    return changed


def _rel_diff(full: np.ndarray, part: np.ndarray) -> np.ndarray:
    """Relative difference per bar; inf where only one of them is NaN, 0 where both are."""
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.abs(full - part) / np.maximum(np.abs(full), np.finfo("float64").tiny)
    d = np.where(np.isnan(full) & np.isnan(part), 0.0, d)
    return np.where(np.isnan(d), np.inf, d)


def _cut_points(decisions: dict[str, np.ndarray], n: int, cuts: int, first: int) -> list[int]:
    """``cuts`` numbers of bars to keep: up to half right after decided entries/exits, the rest evenly
    spread (a cut may coincide with another)."""
    if first >= n:
        return []
    fired = np.flatnonzero((decisions["entry"] > 0) | (decisions["exit"] > 0)) + 1
    fired = fired[(fired >= first) & (fired <= n - 1)]
    picked = fired[np.linspace(0, len(fired) - 1, min(cuts // 2, len(fired))).round().astype(int)] \
        if len(fired) else fired
    even = np.linspace(first, n - 1, max(cuts - len(picked), 1)).round().astype(int)
    return sorted(set(even.tolist()) | set(picked.tolist()))


@dataclass(frozen=True)
class LookaheadReport:
    """What :func:`check_strategy` found.

    ``lookahead``: one row per compared series (``entry``, ``exit``, then indicators in the order
    computed): ``leaks`` (cuts at which a past value changed, of ``cuts``), ``looks_ahead`` (most bars
    between a changed value and the cut), ``first_cut`` / ``bar`` / ``full`` / ``cut_value`` (the first
    change found: the cut's last bar, the bar that changed, its value with all data and with the cut).
    ``warmup``: per series ``settle`` (bars, NaN if not settled within the data) and ``settled``; the
    ``by_warmup`` frame: the largest relative difference left after each warm-up length (columns).
    """

    strategy: str
    params: dict[str, Any]
    bars: int
    cuts: tuple[pd.Timestamp, ...]
    starts: tuple[pd.Timestamp, ...]
    tolerance: float
    lookahead: pd.DataFrame
    warmup: pd.DataFrame
    by_warmup: pd.DataFrame

    @property
    def leaky(self) -> list[str]:
        """The series whose past values changed when the future was cut off."""
        return [str(s) for s in self.lookahead.index[self.lookahead["leaks"] > 0]]

    @property
    def passed(self) -> bool:
        """No lookahead found."""
        return not self.leaky

    @property
    def warmup_bars(self) -> float:
        """Bars after which the decisions equal those made with the full history (NaN: never settled)."""
        settle = self.warmup.loc[list(_DECISIONS), "settle"]
        return math.nan if settle.isna().any() else float(settle.max())

    def verdict(self) -> str:
        """One line: the gate's outcome and the warm-up the decisions need."""
        wu = self.warmup_bars
        warm = (f"decisions settle after {int(wu)} bars" if not math.isnan(wu) else
                "decisions never settle within the data (they depend on where the data starts)")
        if self.passed:
            return (f"{self.strategy}: no lookahead ({len(self.lookahead)} series unchanged at "
                    f"{len(self.cuts)} cuts of {self.bars:,} bars); {warm}")
        worst = self.lookahead.loc[self.leaky, "looks_ahead"]
        return (f"{self.strategy}: LOOKAHEAD in {', '.join(self.leaky)} (up to {int(worst.max())} bar(s) "
                f"ahead; {len(self.cuts)} cuts of {self.bars:,} bars); {warm}")

    def lookahead_table(self) -> pd.DataFrame:
        """For people: per series, whether it leaked, at how many cuts, how far ahead, the first change
        (:func:`workbench.present.lookahead.lookahead_table`)."""
        from workbench.present.lookahead import lookahead_table

        return lookahead_table(self)

    def warmup_table(self, max_columns: int = 6) -> pd.DataFrame:
        """For people: per series, the bars it needs to settle and the largest relative difference left
        after growing warm-ups (:func:`workbench.present.lookahead.warmup_table`)."""
        from workbench.present.lookahead import warmup_table

        return warmup_table(self, max_columns)

    def _repr_html_(self) -> str:
        from workbench.present.lookahead import report_html

        return report_html(self)


def check_strategy(strategy: Strategy, df: pd.DataFrame, *, cuts: int = 30, starts: int = 3,
                   rtol: float = 1e-9, tolerance: float = 1e-6, min_bars: int | None = None,
                   warmups: Sequence[int] = DEFAULT_WARMUPS) -> LookaheadReport:
    """Check ``strategy`` on one symbol's bars ``df`` for lookahead and measure its warm-up.

    Parameters
    ----------
    strategy : Strategy
    df : DataFrame
        OHLCV bars on a UTC DatetimeIndex, oldest first (a few hundred bars at least; more than the
        slowest indicator needs to settle, for the warm-up).
    cuts : int
        Number of cut points (about half after the full run's decisions, half evenly spread).
    starts : int
        Number of later start points of the warm-up measurement (between 10 % and 50 % of the data).
    rtol : float
        Relative tolerance of the lookahead comparison (the values of a prefix are normally identical).
    tolerance : float
        Relative difference under which a value counts as settled.
    min_bars : int, optional
        Fewest bars kept by a cut (default: a tenth of the data, at least 20).
    warmups : sequence of int
        Warm-up lengths of the ``by_warmup`` table.
    """
    import pandas as pd

    n = len(df)
    if not isinstance(df.index, pd.DatetimeIndex) or not df.index.is_monotonic_increasing:
        raise ValidationError(f"check of {strategy.name}: the bars need an increasing DatetimeIndex")
    if n < 50:
        raise ValidationError(f"check of {strategy.name}: {n} bars are too few (need at least 50)")
    if cuts < 1 or starts < 1:
        raise ValidationError(f"check of {strategy.name}: cuts and starts must be >= 1 (got {cuts}, {starts})")
    full = _evaluate(strategy, df)
    labels = list(full)

    # lookahead: recompute on data cut at many points, compare each past value
    first = max(20, n // 10) if min_bars is None else max(2, min_bars)
    points = _cut_points(full, n, cuts, first)
    leaks = {label: 0 for label in labels}
    ahead = {label: 0 for label in labels}
    first_seen: dict[str, tuple[Any, Any, float, float]] = {}
    for c in points:
        part = _evaluate(strategy, df.iloc[:c])
        for label in labels:
            got = part.get(label)
            if got is None:   # not computed on the shorter data: its values depend on the future too
                diff = np.ones(c, dtype=bool)
                got = np.full(c, np.nan)
            else:
                diff = _changed(full[label][:c], got, rtol)
            where = np.flatnonzero(diff)
            if len(where):
                leaks[label] += 1
                ahead[label] = max(ahead[label], c - int(where[0]))
                if label not in first_seen:
                    i = int(where[0])
                    first_seen[label] = (df.index[c - 1], df.index[i], float(full[label][i]), float(got[i]))
    lookahead = pd.DataFrame({
        "leaks": [leaks[lb] for lb in labels],
        "looks_ahead": [ahead[lb] for lb in labels],
        "first_cut": [first_seen.get(lb, (pd.NaT,) * 2)[0] for lb in labels],
        "bar": [first_seen.get(lb, (pd.NaT,) * 2)[1] for lb in labels],
        "full": [first_seen.get(lb, (0, 0, math.nan, math.nan))[2] for lb in labels],
        "cut_value": [first_seen.get(lb, (0, 0, math.nan, math.nan))[3] for lb in labels],
    }, index=pd.Index(labels, name="series"))

    # warm-up: start the data later, see after how many bars each series equals the full-history one
    begins = sorted(set(np.linspace(n // 10, n // 2, starts).round().astype(int).tolist()))
    settle: dict[str, float] = {label: 0.0 for label in labels}
    lengths = [w for w in warmups if w < n - begins[-1]]
    worst = {label: np.zeros(len(lengths)) for label in labels}
    for s in begins:
        part = _evaluate(strategy, df.iloc[s:])
        for label in labels:
            got = part.get(label, np.full(n - s, np.nan))
            d = _rel_diff(full[label][s:], got)
            if label in _DECISIONS:
                d = np.where(d > 0, np.inf, 0.0)
            bad = np.flatnonzero(d > tolerance)
            if len(bad) and bad[-1] == len(d) - 1:
                settle[label] = math.nan
            elif len(bad) and not math.isnan(settle[label]):
                settle[label] = max(settle[label], float(bad[-1] + 1))
            for k, w in enumerate(lengths):
                worst[label][k] = max(worst[label][k], float(d[w:].max()) if w < len(d) else 0.0)
    warmup = pd.DataFrame({"settle": [settle[lb] for lb in labels],
                           "settled": [not math.isnan(settle[lb]) for lb in labels]},
                          index=pd.Index(labels, name="series"))
    by_warmup = pd.DataFrame([worst[lb] for lb in labels], index=pd.Index(labels, name="series"),
                             columns=pd.Index(lengths, name="warm-up bars"))
    return LookaheadReport(
        strategy=strategy.name, params=dict(strategy.params), bars=n,
        cuts=tuple(df.index[c - 1] for c in points), starts=tuple(df.index[s] for s in begins),
        tolerance=tolerance, lookahead=lookahead, warmup=warmup, by_warmup=by_warmup)
