"""Presentation, in one place: number, money, percent and time formats, tables, every figure, the parts of
a report and the reports index. Formats what it is given (no database, no network); names are imported on
first use, so ``import workbench.present.formatting`` does not load plotly."""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "HtmlBlock": "workbench.present.story",
    "KPI_KEYS": "workbench.present.story",
    "REPORT_MIMETYPE": "workbench.present.story",
    "SYNTHETIC_PREFIX": "workbench.core.markets",
    "benchmark_metrics": "workbench.present.tearsheet",
    "build_index": "workbench.present.index",
    "candles_figure": "workbench.present.report_figures",
    "comparison_kpis": "workbench.present.summaries",
    "data_summary": "workbench.present.story",
    "drawdown_figure": "workbench.present.report_figures",
    "drawdown_periods": "workbench.present.result_figures",
    "equity_figure": "workbench.present.report_figures",
    "equity_vs_benchmark_figure": "workbench.present.result_figures",
    "exploration_kpis": "workbench.present.summaries",
    "export_result": "workbench.present.story",
    "fold_columns": "workbench.present.walkforward",
    "formatted": "workbench.present.story",
    "full_table": "workbench.present.story",
    "importances_table": "workbench.present.summaries",
    "indicator_title": "workbench.present.story",
    "indicators_figure": "workbench.present.report_figures",
    "indicators_table": "workbench.present.story",
    "kpis": "workbench.present.story",
    "label_figure": "workbench.present.report_figures",
    "lookahead_section": "workbench.present.gate",
    "manifest_table": "workbench.present.story",
    "matched_trades_tables": "workbench.present.summaries",
    "manifests_tables": "workbench.present.comparison",
    "matching_run": "workbench.present.story",
    "metrics_table": "workbench.present.story",
    "metrics_with_benchmark": "workbench.present.tearsheet",
    "monthly_returns_heatmap": "workbench.present.report_figures",
    "plot_result": "workbench.present.result_figures",
    "quality_section": "workbench.present.story",
    "reconciliation_causes": "workbench.present.summaries",
    "reconciliation_headline": "workbench.present.summaries",
    "report_header": "workbench.present.story",
    "report_heading": "workbench.present.story",
    "report_title": "workbench.present.story",
    "results_table": "workbench.present.story",
    "return_distribution_figure": "workbench.present.tearsheet",
    "returns_histogram": "workbench.present.report_figures",
    "rolling_figure": "workbench.present.tearsheet",
    "rolling_ratios": "workbench.present.tearsheet",
    "run_label": "workbench.present.comparison",
    "runs_comparison_figure": "workbench.present.report_figures",
    "runs_table": "workbench.present.comparison",
    "sample_label": "workbench.present.report_figures",
    "sample_notice": "workbench.present.report_figures",
    "setup_plotly": "workbench.present.report_figures",
    "strategy_label": "workbench.present.story",
    "study_headline": "workbench.present.summaries",
    "study_summary": "workbench.present.summaries",
    "sweep_headline": "workbench.present.summaries",
    "sweep_heatmap": "workbench.present.report_figures",
    "trade_table": "workbench.present.story",
    "trades_on_price": "workbench.present.report_figures",
    "underwater_figure": "workbench.present.result_figures",
    "versus_benchmark": "workbench.present.story",
    "walk_forward_figure": "workbench.present.report_figures",
    "walk_forward_summary": "workbench.present.walkforward",
    "window_text": "workbench.present.story",
    "worst_drawdowns_table": "workbench.present.story",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:   # a name of _EXPORTS; typed code imports it from its module
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench.present' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
