"""The lookahead and warm-up section of a backtest report (the checks are
:func:`workbench.core.strategies.check_strategy`'s)."""

from __future__ import annotations

from html import escape

from workbench.core.backtest import BacktestResult
from workbench.core.strategies import Strategy, check_strategy
from workbench.present.lookahead import lookahead_table, warmup_table
from workbench.present.story import HtmlBlock, full_table

__all__ = ["MIN_CHECK_BARS", "lookahead_section"]

#: fewest bars of a symbol the check runs on
MIN_CHECK_BARS = 50


def lookahead_section(strategy: Strategy, result: BacktestResult) -> HtmlBlock:
    """Per symbol of ``result``: the gate's verdict, the lookahead table and the warm-up table, computed on
    the bars the run was given."""
    parts = []
    for symbol in result.symbols:
        bars = result.data.own_frame(symbol)
        if len(bars) < MIN_CHECK_BARS:
            parts.append(f"<p><b>{escape(symbol)}</b>: {len(bars)} bars, too few to check (needs "
                         f"{MIN_CHECK_BARS}).</p>")
            continue
        report = check_strategy(strategy, bars)
        parts.append(f"<p><b>{escape(symbol)}</b>: {escape(report.verdict())}</p>")
        parts.append(full_table(lookahead_table(report)).html)
        parts.append(full_table(warmup_table(report)).html)
    return HtmlBlock("".join(parts))

