"""Library calls leave the process as they found it: its environment, its warnings filters and Optuna's
log level (what a notebook or another library set stays set)."""

from __future__ import annotations

import os
import uuid
import warnings
from pathlib import Path
from typing import Any

import pytest

from workbench.core.strategies import EmaCross
from workbench.ingest.sample import generate_sample_candles
from workbench.store.writer import write_table


def _process_state() -> tuple[dict[str, str], list[Any], int]:
    import optuna

    return dict(os.environ), list(warnings.filters), optuna.logging.get_verbosity()


@pytest.mark.db
@pytest.mark.redis
def test_optimize_keeps_the_environment_the_warnings_filters_and_optunas_log_level(session: Any) -> None:
    import optuna

    write_table(session.db, "candles", generate_sample_candles(days=10))
    name = f"side-effects-{uuid.uuid4().hex[:8]}"
    space = {"fast": (3, 10), "slow": (15, 40)}
    args = (EmaCross(), space, "KRW-SYNBTC", "1h")
    # a first call imports what the search needs (an import may add a warnings filter of its own)
    session.optimize(*args, n_trials=4, n_folds=2, holdout=0.3, seed=1, study_name=name, progress=False)
    before_level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO)   # the caller's choice
    try:
        before = _process_state()
        res = session.optimize(*args, n_trials=5, n_folds=2, holdout=0.3, seed=1, study_name=name, progress=False)
        assert len(res.trials) == 5   # the resumed study ran one more trial
        assert _process_state() == before
        assert optuna.logging.get_verbosity() == optuna.logging.INFO
    finally:
        optuna.logging.set_verbosity(before_level)


@pytest.mark.slow
def test_a_report_hands_its_kernel_an_environment_without_changing_this_ones(tmp_path: Path) -> None:
    import nbformat

    from workbench.app.report import run_report

    folder = tmp_path / "notebooks"
    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell("expected = ''")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(
        "import os\nassert os.environ.get('WORKBENCH_SIDE_EFFECT_PROBE', '') == expected, "
        "os.environ.get('WORKBENCH_SIDE_EFFECT_PROBE')")]
    nbformat.write(nb, folder / "probe.ipynb")
    value = "postgresql://u:pa$word@127.0.0.1:5/db"   # a '$' reaches the kernel as it is
    # a first report imports what reports need (papermill, nbconvert, bleach add warnings filters on import)
    run_report("probe", {}, output_dir=tmp_path / "out", notebooks_dir=folder, progress=False)
    before = _process_state()
    html = run_report("probe", {"expected": value}, output_dir=tmp_path / "out", notebooks_dir=folder,
                      progress=False, env={"WORKBENCH_SIDE_EFFECT_PROBE": value})
    assert html.is_file() and "WORKBENCH_SIDE_EFFECT_PROBE" not in os.environ
    assert _process_state() == before
