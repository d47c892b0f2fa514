"""A lookahead and warm-up check (:class:`~workbench.core.strategies.lookahead.LookaheadReport`) for
people: tables and HTML."""

from __future__ import annotations

import math
from html import escape
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from workbench.present.formatting import MISSING, format_pct_small, format_time_kst

if TYPE_CHECKING:
    from workbench.core.strategies.lookahead import LookaheadReport

__all__ = ["lookahead_table", "report_html", "warmup_table"]


def lookahead_table(report: LookaheadReport) -> pd.DataFrame:
    """For people: per series, whether it leaked, at how many cuts, how far ahead, the first change."""
    look = report.lookahead
    changed = look["leaks"] > 0
    return pd.DataFrame({
        "series": look.index,
        "lookahead": ["LEAK" if c else "none" for c in changed],
        "cuts changed": [f"{k} of {len(report.cuts)}" for k in look["leaks"]],
        "bars ahead": [str(int(b)) if c else MISSING for b, c in zip(look["looks_ahead"], changed, strict=True)],
        "first change (KST)": [f"{_kst(bar)} (cut after {_kst(cut)})" if c else MISSING
                               for bar, cut, c in zip(look["bar"], look["first_cut"], changed, strict=True)],
        "full -> cut": [f"{_num(f)} -> {_num(v)}" if c else MISSING
                        for f, v, c in zip(look["full"], look["cut_value"], changed, strict=True)],
    })


def _kst(t: object) -> str:
    """An instant in KST, like every time of a report (the column's title names the zone)."""
    return format_time_kst(t).removesuffix(" KST")


def warmup_table(report: LookaheadReport, max_columns: int = 6) -> pd.DataFrame:
    """For people: per series, the bars it needs to settle and the largest relative difference left
    after growing warm-ups (at most ``max_columns`` of them, spread over the measured ones)."""
    lengths = list(report.by_warmup.columns)
    if len(lengths) > max_columns:
        keep = np.linspace(0, len(lengths) - 1, max_columns).round().astype(int)
        lengths = [lengths[i] for i in sorted(set(keep.tolist()))]
    out = pd.DataFrame({
        "series": report.warmup.index,
        "settles after": [f"{int(v)} bars" if ok else "not settled"
                          for v, ok in zip(report.warmup["settle"], report.warmup["settled"], strict=True)],
    })
    for w in lengths:
        out[f"after {w}"] = [_pct(v) for v in report.by_warmup[w]]
    return out


def report_html(report: LookaheadReport) -> str:
    """The whole check as HTML (a notebook's display of the report)."""
    warm = warmup_table(report, max_columns=len(report.by_warmup.columns))
    return (f"<p><b>{escape(report.verdict())}</b></p><p>Lookahead: each series recomputed on the data cut at "
            f"{len(report.cuts)} points; a changed past value is a leak.</p>"
            f"{lookahead_table(report).to_html(index=False)}"
            f"<p>Warm-up: bars from the data's start until each series equals its full-history value "
            f"within {report.tolerance:g} (relative), and the largest relative difference left after "
            f"growing warm-ups.</p>{warm.to_html(index=False)}")


def _num(value: float) -> str:
    return "NaN" if math.isnan(value) else f"{value:.6g}"


def _pct(value: float) -> str:
    """A relative difference in percent, 2 significant digits, never scientific notation:
    ``4.32e-04`` -> ``0.043%``."""
    if not np.isfinite(value):
        return "differs"
    return "0" if value == 0 else format_pct_small(value)
