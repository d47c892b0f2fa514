"""Reporting: plotly figures for notebooks, and parameterized notebooks rendered to HTML reports."""

from workbench.reporting.figures import (
    SYNTHETIC_PREFIX,
    candles_figure,
    drawdown_figure,
    equity_figure,
    indicators_figure,
    label_figure,
    monthly_returns_heatmap,
    returns_histogram,
    runs_comparison_figure,
    sample_label,
    sample_notice,
    setup_plotly,
    sweep_heatmap,
    trades_on_price,
    walk_forward_figure,
)
from workbench.reporting.run import available_notebooks, notebook_parameters, resolve_notebook, run_report

__all__ = [
    "SYNTHETIC_PREFIX",
    "available_notebooks",
    "candles_figure",
    "drawdown_figure",
    "equity_figure",
    "indicators_figure",
    "label_figure",
    "monthly_returns_heatmap",
    "notebook_parameters",
    "resolve_notebook",
    "returns_histogram",
    "run_report",
    "runs_comparison_figure",
    "sample_label",
    "sample_notice",
    "setup_plotly",
    "sweep_heatmap",
    "trades_on_price",
    "walk_forward_figure",
]
