"""Every report kind rendered as a stakeholder reads it: no raw floats in scientific notation, no UTC times
(``+00:00``, ``... UTC``), no pandas ``...`` truncation, no dict reprs, no warnings printed into the report,
every table rendered for people (no pandas repr, no snake_case headers, "none" instead of bare headers),
buy & hold in the run comparison, and a row with headline KPIs in reports/index.html for each kind."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from test_notebooks import SMALL  # the small parameters of every report (same folder)

from workbench.app.report import run_report

KEEP = os.environ.get("WORKBENCH_TEST_KEEP_REPORTS")  # a folder to copy the rendered reports to (to look at)


def _visible_text(html: str) -> str:
    """The report's text outside scripts and styles (plotly's bundle has its own ``e+0``s)."""
    html = re.sub(r"<script\b.*?</script>", " ", html, flags=re.S | re.I)
    html = re.sub(r"<style\b.*?</style>", " ", html, flags=re.S | re.I)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.db
@pytest.mark.redis
@pytest.mark.slow
def test_every_report_reads_well(loaded: Any, kernel_env: dict[str, str], tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("WORKBENCH_")]:
        monkeypatch.delenv(key)
    for key, value in kernel_env.items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "reports"
    pages = {}
    for name, params in SMALL.items():
        given = {k: str(v) for k, v in params.items()}
        if name == "strategy_backtest":
            given.update({"store": "false", "risk_per_trade": "1.0"})
        pages[name] = run_report(name, given, output_dir=out, progress=False)
    if KEEP:
        shutil.copytree(out, KEEP, dirs_exist_ok=True)
    # the stored runs each report shows, named in its .json (who may read it in the portal): the sweep's 2x2
    # grid, the comparison's 3 latest runs, the reconciled paper run; the exploration shows none
    runs = {name: json.loads(path.with_suffix(".json").read_text(encoding="utf-8")) for name, path in pages.items()}
    assert [len(runs[n]["backtest_ids"]) for n in ("parameter_sweep", "run_comparison")] == [4, 3]
    assert len(runs["reconciliation"]["paper_run_ids"]) == 1 and runs["optuna_study"]["backtest_ids"]
    assert (runs["data_exploration"]["backtest_ids"], runs["data_exploration"]["paper_run_ids"]) == ([], [])
    for name, path in pages.items():
        page = path.read_text(encoding="utf-8")
        text = _visible_text(page)
        for bad in (r"\d\.\d+e[+-]\d\d", r"\+00:00", r"\.\.\.", r"\{'", r"IProgress", r"TqdmWarning", r"Traceback",
                    r"rows × \d+ columns", r"-0\.00", r"\d\d:\d\d(:\d\d)? UTC\b", r"\d{4}-\d\d-\d\d UTC\b"):
            found = re.search(bad, text)
            assert found is None, f"{name}: {bad!r} in ...{text[max(0, found.start() - 80):found.end() + 80]}..."
        # every table is rendered for people (full_table): no pandas repr, no header row of code names, and an
        # empty one says "none" instead of showing bare headers
        assert not re.search(r'<table[^>]*class="dataframe(?![^"]*wb-table)', page), f"{name}: a pandas repr table"
        assert not re.search(r"<tbody>\s*</tbody>", page), f"{name}: an empty table shown as bare headers"
        for head in re.findall(r'<table[^>]*wb-table[^>]*>\s*<thead>(.*?)</thead>', page, flags=re.S):
            cells = [c.strip() for c in re.findall(r"<th[^>]*>(.*?)</th>", head, flags=re.S)]
            assert not [c for c in cells if re.search(r"[a-z]_[a-z]", c)], (name, cells)
    # run_comparison shows each run's buy & hold (recomputed from the stored candles), like every report
    runs_head = re.search(r'<table[^>]*wb-table[^>]*>\s*<thead>(.*?)</thead>', pages["run_comparison"].read_text(
        encoding="utf-8"), flags=re.S)
    assert runs_head is not None and "Buy &amp; hold" in runs_head.group(1)
    index = (out / "index.html").read_text(encoding="utf-8")
    # a row: date (day<br>time), notebook (sorted by its name), ...
    rows = {m.group(1): m.group(0) for m in re.finditer(r'<tr><td[^>]*>.*?</td><td data-sort="(\w+)">.*?</tr>',
                                                       index, flags=re.S)}
    assert sorted(rows) == sorted(SMALL)
    for name, row in rows.items():
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
        # date, notebook, title, return, buy & hold, max drawdown, Sharpe, trades, summary, link
        assert any(re.fullmatch(r"[+-]?\d+\.\d\d%", c) for c in cells[3:6]), (name, cells)
        assert cells[8] or name == "strategy_backtest", (name, cells)  # its KPIs are in the report's header
    assert re.fullmatch(r"[+-]?\d+\.\d\d%", re.findall(r"<td[^>]*>(.*?)</td>", rows["run_comparison"])[4])
    assert re.search(r"best fast=\d+ slow=\d+; out-of-sample Sharpe", rows["optuna_study"]), rows["optuna_study"]
    assert re.search(r"paper PnL -?₩[\d,]+ vs backtest -?₩[\d,]+ \(difference -?₩[\d,]+\); \d+ matched",
                     rows["reconciliation"]), rows["reconciliation"]
