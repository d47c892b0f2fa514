"""Plotly figures of a reconciliation (for the ``reconciliation`` notebook)."""

from __future__ import annotations

import plotly.graph_objects as go

from workbench.core.paper.reconcile import Reconciliation

__all__ = ["decomposition_figure", "slippage_figure"]

_LABELS = {"size": "position size", "entry_price": "entry prices", "exit_price": "exit prices", "fees": "fees",
           "partial_fills": "partial fills", "extra_trades": "extra trades", "missed_trades": "missed trades"}


def decomposition_figure(rec: Reconciliation) -> go.Figure:
    """Waterfall from the backtest's PnL to the paper PnL, one step per cause (KRW)."""
    names = ["backtest PnL", *[_LABELS[c] for c in rec.decomposition.index], "paper PnL"]
    values = [rec.backtest_pnl, *rec.decomposition.to_numpy(dtype=float).tolist(), rec.paper_pnl]
    fig = go.Figure(go.Waterfall(x=names, y=values, measure=["absolute"] + ["relative"] * len(rec.decomposition)
                                 + ["total"], texttemplate="%{y:,.0f}", textposition="outside"))
    fig.update_layout(title="PnL difference by cause (KRW)", yaxis_title="KRW", template="plotly_white",
                      showlegend=False)
    return fig


def slippage_figure(rec: Reconciliation) -> go.Figure:
    """Fill prices against the backtest's, per matched trade (basis points; positive = worse)."""
    s = rec.slippage()
    fig = go.Figure()
    for col, name in (("entry_bps", "entry"), ("exit_bps", "exit")):
        fig.add_trace(go.Histogram(x=s[col], name=name, opacity=0.7))
    fig.update_layout(title="Fill price vs backtest (bps, positive = worse for the trader)", barmode="overlay",
                      xaxis_title="bps", yaxis_title="fills", template="plotly_white")
    if s.empty:   # an empty section says so instead of drawing bare axes
        fig.update_layout(xaxis_visible=False, yaxis_visible=False, showlegend=False)
        fig.add_annotation(text="none: no trade matched between the paper run and the backtest", showarrow=False,
                           x=0.5, y=0.5, xref="paper", yref="paper", font={"size": 14})
    return fig
