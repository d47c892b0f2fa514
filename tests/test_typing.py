"""The typed package: mypy --strict is clean on it, and the facade returns pandas/polars/arrow per frame kind (tests/typing/)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_package_is_strict_clean_and_facade_types_follow_the_frame_kind(tmp_path: Path) -> None:
    """``mypy --strict`` (pyproject's [tool.mypy]) passes on the package, and tests/typing/facade_types.py
    type-checks; a control file with a wrong expectation (a polars result asserted as pandas) is the one
    error reported, so the check can fail. One mypy run checks all three (pandas-stubs types the pandas
    frames; pyarrow ships no types, so its Tables are Any)."""
    bad = tmp_path / "wrong_expectation.py"
    bad.write_text("from typing import assert_type\nimport pandas as pd\nfrom workbench.app.session import Workbench\n"
                   "def f(wb: Workbench) -> None:\n    assert_type(wb.polars.candles('KRW-BTC'), pd.DataFrame)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MYPY_CACHE_DIR": str(tmp_path / "mypy")}
    proc = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
                           str(ROOT / "workbench"), str(ROOT / "tests" / "typing" / "facade_types.py"), str(bad)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    errors = [line for line in proc.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1 and errors[0].startswith(f"{bad}:5:") and "[assert-type]" in errors[0], proc.stdout
    assert proc.returncode == 1, proc.stdout + proc.stderr
