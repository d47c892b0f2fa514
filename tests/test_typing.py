"""The typed facade: mypy infers pandas/polars/arrow results from ``backend`` (tests/typing/)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_facade_return_types_follow_the_backend(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MYPY_CACHE_DIR": str(tmp_path / "mypy")}
    proc = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
                           "--no-incremental", str(ROOT / "tests" / "typing" / "facade_types.py")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_wrong_expectation_fails_the_check(tmp_path: Path) -> None:
    """The check above can fail: a polars result asserted as pandas is reported. (pandas ships no type
    information here, so mypy sees pandas frames as Any; polars and pyarrow results are checked exactly.)"""
    bad = tmp_path / "bad_types.py"
    bad.write_text("from typing import assert_type\nimport pandas as pd\nfrom workbench.session import Workbench\n"
                   "def f(wb: Workbench) -> None:\n    assert_type(wb.candles('KRW-BTC', backend='polars'), pd.DataFrame)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MYPY_CACHE_DIR": str(tmp_path / "mypy")}
    proc = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), str(bad)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1 and "[assert-type]" in proc.stdout, proc.stdout + proc.stderr
