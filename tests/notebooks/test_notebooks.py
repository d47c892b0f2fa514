"""The report notebooks: well-formed as committed, and every one runs (nbval, lax) on a few days of the
sample data set with small parameters, against the test database and Redis."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import papermill
import pytest
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook

from workbench.app.report import run_report

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
SMALL_RANGE = {"start": "2025-01-01", "end": "2025-01-04"}
#: small parameters per notebook: 3 days of 1h bars, a 2x2 grid, 2 walk-forward folds
SMALL: dict[str, dict[str, Any]] = {
    "data_exploration": {**SMALL_RANGE, "symbol": "KRW-SYNBTC", "timeframe": "1h"},
    "strategy_backtest": {**SMALL_RANGE, "strategy_params": '{"fast": 5, "slow": 13}',
                          "symbols": "KRW-SYNBTC,KRW-SYNETH", "max_positions": 2},
    "parameter_sweep": {**SMALL_RANGE, "grid": '{"fast": [3, 5], "slow": [8, 13]}', "walk_forward_folds": 2,
                        "symbols": "KRW-SYNBTC"},
    "run_comparison": {"limit": 3},
    "optuna_study": {**SMALL_RANGE, "space": '{"fast": "3:6", "slow": "8:13"}', "trials": 6, "folds": 1},
    "reconciliation": {"run_id": 0},
}


def notebook_paths() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def test_every_notebook_has_small_parameters() -> None:
    assert sorted(p.stem for p in notebook_paths()) == sorted(SMALL)


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_notebook_is_committed_clean(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert nb.cells[1] is tagged[0] and tagged[0].cell_type == "code"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"stored output in {cell.source[:40]!r}"
    # primitives only, and every assignment is seen by papermill (a line it cannot parse is dropped)
    assigned = re.findall(r"^(\w+)\s*=", tagged[0].source, flags=re.M)
    inspected = papermill.inspect_notebook(str(path))
    assert list(inspected) == assigned
    for name, spec in inspected.items():
        value = ast.literal_eval(spec["default"])
        assert isinstance(value, str | int | float | bool) or value is None, name
    # code only calls the package: no definitions, no chdir; set-up comes first
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert not re.search(r"^\s*(def|class) ", code, flags=re.M) and "chdir" not in code
    setup = next(c for c in nb.cells[2:] if c.cell_type == "code").source
    assert "setup_plotly()" in setup and "workbench.connect()" in setup


@pytest.mark.db
@pytest.mark.redis
@pytest.mark.slow
def test_notebooks_run_with_nbval(loaded: Any, kernel_env: dict[str, str], tmp_path: Path) -> None:
    copies = tmp_path / "notebooks"
    copies.mkdir()
    expected: dict[str, int] = {}
    for path in notebook_paths():
        nb = parameterize_notebook(load_notebook_node(str(path)), SMALL[path.stem])
        nbformat.write(nb, copies / path.name)
        expected[path.stem] = sum(c.cell_type == "code" for c in nb.cells)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-cell-timeout=300", "-p", "no:cacheprovider",
         "-v", "-o", "addopts=", *sorted(str(p) for p in copies.iterdir())],
        cwd=tmp_path, env=kernel_env, capture_output=True, text=True, timeout=600,
    )
    report = proc.stdout[-6000:] + proc.stderr[-2000:]
    assert proc.returncode == 0, report
    for name, cells in expected.items():  # one item per code cell: "<dir>/<name>.ipynb::Cell 3 PASSED"
        passed = set(re.findall(rf"\b{name}(?:\.|::)ipynb::Cell (\d+) PASSED", proc.stdout))
        assert passed == {str(i) for i in range(cells)}, f"{name}: collected {sorted(passed)}\n{report}"


@pytest.mark.db
@pytest.mark.redis
@pytest.mark.slow
def test_strategy_backtest_report(loaded: Any, kernel_env: dict[str, str], tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("WORKBENCH_")]:
        monkeypatch.delenv(key)
    for key, value in kernel_env.items():
        monkeypatch.setenv(key, value)
    params = {k: str(v) for k, v in SMALL["strategy_backtest"].items()}  # as the CLI gives them
    # the stored run's risk (see ``loaded``): the report finds that run instead of storing another
    html_path = run_report("strategy_backtest", {**params, "store": "false", "risk_per_trade": "1.0"},
                           output_dir=tmp_path / "reports",
                           progress=False)
    html = html_path.read_text(encoding="utf-8")
    assert "Plotly.newPlot" in html and "SYNTHETIC SAMPLE DATA" in html
    # equity vs benchmark, underwater, rolling Sharpe/volatility, return distribution, monthly returns, the
    # trades of each of the two symbols
    assert html.count('class="plotly-graph-div"') == 7
    assert "benchmark (equal-weight)" in html                  # the benchmark column of every metric
    assert re.search(r"backtest_results\.id</th>\s*<td[^>]*>1</td>", html)  # the stored run it repeats
    assert "Traceback" not in html
    assert len(loaded.runs()) == 1  # store=false: nothing added
