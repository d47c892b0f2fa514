"""The tables of a run comparison: the runs with their buy & hold, and their manifests split into what every
run shares and what differs, each fitting the page (``Workbench.run`` dicts and frames in, frames and HTML
out; pure).

>>> run_label({"id": 8, "strategy_name": "EmaCross", "parameters": {"params": {"fast": 5, "slow": 13}}})
'#8 EmaCross fast=5 slow=13'
>>> run_label({"id": 9, "strategy_name": "EmaCross", "split": "walk_forward",
...            "parameters": {"params": {"walk_forward_folds": [{"fast": 3}, {"fast": 5}]}}})
'#9 EmaCross walk-forward (2 folds)'
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any, Final

import pandas as pd

from workbench.present.formatting import MISSING, format_metric, format_params, metric_title
from workbench.present.story import HtmlBlock, full_table, window_text

__all__ = ["manifests_tables", "run_label", "runs_table"]

#: the metrics of the runs table, in order
_METRICS: Final = ("total_return", "benchmark_return", "excess_return", "annual_return", "sharpe_ratio",
                   "max_drawdown", "win_rate", "total_trades")
#: the manifest fields compared, and their titles
_FIELDS: Final = (("run_id", "run id"), ("sweep_id", "sweep id"), ("split", "split"),
                  ("strategy_class", "strategy class"), ("parameters", "parameters"),
                  ("backtest_config", "backtest config"), ("data_fingerprint", "data fingerprint"),
                  ("data_rows", "data rows"), ("git_commit", "git commit"), ("package_versions", "package versions"))


def _params(run: Mapping[str, object]) -> dict[str, Any]:
    spec = run.get("parameters")
    params = spec.get("params") if isinstance(spec, Mapping) else None
    return dict(params) if isinstance(params, Mapping) else {}


def run_label(run: Mapping[str, object]) -> str:
    """``#8 EmaCross fast=5 slow=13``; a walk-forward's stitched run names its folds instead."""
    params = _params(run)
    folds = params.get("walk_forward_folds")
    what = (f"walk-forward ({len(folds)} folds)" if isinstance(folds, list)
            else format_params(params) if params else "")
    return " ".join(p for p in (f"#{run.get('id')}", str(run.get("strategy_name") or ""), what) if p)


def _text(value: Any) -> str:
    if value is None:
        return MISSING
    if isinstance(value, Mapping):
        if "params" in value and "symbols" in value:  # a manifest's parameters: params, risk, symbols
            parts = [format_params(value.get("params")), f"risk: {format_params(value.get('risk'))}",
                     f"symbols: {', '.join(map(str, value.get('symbols') or [])) or MISSING}"]
            return "; ".join(parts)
        return ", ".join(f"{k} {_text(v) if isinstance(v, Mapping | list) else v}" for k, v in value.items()) \
            or MISSING
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value) or MISSING
    return str(value)


def runs_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per run for people: run (``#id strategy parameters``), symbols and timeframe, period (KST),
    return, buy & hold, excess return, CAGR, Sharpe, max drawdown, win rate, trades, split."""
    out = pd.DataFrame({
        "run": [run_label({str(k): v for k, v in r.items()}) for r in runs.to_dict("records")],
        "symbols": [f"{', '.join(s) if isinstance(s, list) else s} · {tf}"
                    for s, tf in zip(runs["symbols"] if "symbols" in runs.columns else runs["symbol"],
                                     runs["timeframe"], strict=True)],
        "period (KST)": [window_text(a, b).removesuffix(" KST") for a, b in zip(runs["start_date"], runs["end_date"],
                                                                                 strict=True)],
    })
    for key in _METRICS:
        if key in runs.columns:
            out[metric_title(key)] = [format_metric(key, v) for v in runs[key]]
    if "split" in runs.columns:
        out["split"] = [str(v).replace("_", " ") if v else MISSING for v in runs["split"]]
    return out


def manifests_tables(runs: Sequence[Mapping[str, object]]) -> HtmlBlock:
    """The runs' manifests as two tables that fit the page: ``field | value`` of what every run shares
    (code version, packages, often the data), then one row per run of the fields that differ."""
    if not runs:
        return HtmlBlock('<p class="wb-none"><em>none</em></p>')
    texts = {key: [_text(r.get(key)).replace("_", " ") if key == "split" else _text(r.get(key)) for r in runs]
             for key, _ in _FIELDS}
    shared = [(title, texts[key][0]) for key, title in _FIELDS if len(set(texts[key])) == 1]
    differ = [(key, title) for key, title in _FIELDS if len(set(texts[key])) > 1]
    same = pd.DataFrame({"value": [v for _, v in shared]}, index=pd.Index([t for t, _ in shared], name="field"))
    per_run = pd.DataFrame({"run": [run_label(r) for r in runs], **{title: texts[key] for key, title in differ}})
    return HtmlBlock(f"<h4>Shared by every run ({len(runs)})</h4>{full_table(same, wrap=True).html}"
                     f"<h4>Different per run</h4>"
                     + (full_table(per_run, wrap=True).html if differ else
                        f"<p><em>{html.escape('none: every field above is the same for every run')}</em></p>"))
