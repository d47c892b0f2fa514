"""Notifications built from an operation's result: a finished report, the data-quality check of freshly
ingested candles."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd

from workbench.app.notify.notifier import Notification, NotificationWarning, NotifyContext, notify
from workbench.core.markets import normalize_symbol, normalize_timeframe, timeframe_offset
from workbench.core.quality import QualityFinding, QualityReport, quality_report
from workbench.store.market_data import load_candles

__all__ = ["check_after_ingest", "quality_alarm", "report_finished"]

_FINDINGS: tuple[tuple[QualityFinding, str], ...] = (
    ("gaps", "gaps"), ("missing_bars", "missing bars"), ("duplicate_timestamps", "duplicate timestamps"),
    ("zero_volume_runs", "zero-volume runs"), ("price_jumps", "price jumps"), ("bad_bars", "bad bars"))


def quality_alarm(ctx: NotifyContext, report: QualityReport) -> Notification | None:
    """A ``quality_alarm`` notification when ``report`` found anything; None when the data is clean."""
    if report.ok:
        return None
    s = report.summary()
    found = ", ".join(f"{s[key]:,} {label}" for key, label in _FINDINGS if s[key])
    window = f"{s['first']} to {s['last']}" if s["first"] else "no rows"
    counts = {key: int(s[key]) for key, _ in _FINDINGS}
    return notify(ctx, "quality_alarm", f"data quality of {report.symbol} {report.timeframe} ({window}): {found}",
                  symbol=report.symbol, timeframe=report.timeframe, rows=report.rows, **counts)


def check_after_ingest(ctx: NotifyContext, symbol: str, timeframe: str, bars: int, *,
                       now: pd.Timestamp | None = None) -> Notification | None:
    """Check the stored candles of the last ``bars`` bars (what an ingest just wrote) and raise an alarm
    if anything is wrong. Never raises: a failed check is a :class:`NotificationWarning`."""
    if bars < 1:
        return None
    try:
        sym, tf = normalize_symbol(symbol), normalize_timeframe(timeframe)
        end = now if now is not None else pd.Timestamp.now(tz="UTC")
        df = load_candles(ctx.db, sym, tf, end - bars * timeframe_offset(tf), end, allow_empty=True)
        if not isinstance(df, pd.DataFrame) or df.empty:
            return None
        return quality_alarm(ctx, quality_report(df, tf, symbol=sym))
    except Exception as err:
        warnings.warn(f"quality check after ingesting {symbol} {timeframe} failed ({type(err).__name__}: {err}); "
                      "the ingest stands", NotificationWarning, stacklevel=2)
        return None


def report_finished(ctx: NotifyContext, html: Path) -> Notification | None:
    """A ``report_finished`` notification naming the report (its title from the ``.json`` written
    next to it, else the file name) and where it is."""
    title = html.stem
    try:
        title = str(json.loads(html.with_suffix(".json").read_text(encoding="utf-8")).get("title") or title)
    except (OSError, ValueError, AttributeError):
        pass
    return notify(ctx, "report_finished", f"report finished: {title} ({html.name})", report=html.name,
                  title=title)
