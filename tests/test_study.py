"""The README's main command, end to end (on the test servers instead of the embedded ones)."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.app.study import run_study
from workbench.core.strategies import BUILTIN_STRATEGIES
from workbench.ingest.sample import SAMPLE_LABEL
from workbench.services.config import Settings

pytestmark = pytest.mark.slow


def test_default_study_stores_every_builtin_and_writes_reports(db, database_url: str,  # type: ignore[no-untyped-def]
                                                               redis_server_url: str, tmp_path: Path) -> None:
    settings = Settings(database_url=database_url, redis_url=redis_server_url, data_dir=tmp_path / "data",
                        reports_dir=tmp_path / "reports", _env_file=None)
    lines: list[str] = []
    result = run_study(settings, days=10, log=lines.append)
    assert set(result.backtest_ids) == set(BUILTIN_STRATEGIES)
    assert result.best_strategy in BUILTIN_STRATEGIES
    assert any(SAMPLE_LABEL in line for line in lines)
    for name, path in result.reports.items():
        assert path.parent == tmp_path / "reports" and path.suffix == ".html" and path.name.startswith(name)
        html = path.read_text(encoding="utf-8")
        assert "Plotly.newPlot" in html and "SYNTHETIC SAMPLE DATA" in html
        assert '<script src="https://cdn.plot.ly' not in html
    from workbench.store.database import Database
    from workbench.store.runs import list_runs

    runs = list_runs(Database(database_url))
    assert sorted(runs["id"]) == sorted(result.backtest_ids.values())   # the reports stored nothing more
    # a second run reuses the stored sample instead of loading it again
    lines.clear()
    run_study(settings, days=10, log=lines.append)
    assert not any("loading the sample" in line for line in lines)
