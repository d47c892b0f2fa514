"""Report files: unique names under concurrency, nothing half-written after an interruption."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from workbench.app import report as report_run


def test_reports_started_in_the_same_second_get_distinct_files(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        paths = list(pool.map(lambda _: report_run._new_path(tmp_path, "strategy_backtest"), range(16)))
    assert len(set(paths)) == 16 and all(p.exists() for p in paths)   # each reserved on disk


def test_an_interrupted_report_leaves_no_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import papermill

    def interrupted(source: str, executed: str, **kwargs: object) -> None:
        Path(executed).write_text('{"cells": [')   # half-written, then Ctrl-C / SIGTERM
        raise KeyboardInterrupt

    monkeypatch.setattr(papermill, "execute_notebook", interrupted)
    with pytest.raises(KeyboardInterrupt):
        report_run.run_report("data_exploration", {}, output_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []
