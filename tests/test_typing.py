"""The typed facade: mypy infers pandas/polars/arrow results from ``backend`` (tests/typing/)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_facade_return_types_follow_the_backend(tmp_path: Path) -> None:
    """tests/typing/facade_types.py type-checks; a control file with a wrong expectation (a polars
    result asserted as pandas) is reported, so the check can fail. One mypy run checks both. (pandas
    ships no type information here, so mypy sees pandas frames as Any; polars and pyarrow results and
    the union are checked exactly.)"""
    bad = tmp_path / "wrong_expectation.py"
    bad.write_text("from typing import assert_type\nimport pandas as pd\nfrom workbench.app.session import Workbench\n"
                   "def f(wb: Workbench) -> None:\n    assert_type(wb.polars.candles('KRW-BTC'), pd.DataFrame)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MYPY_CACHE_DIR": str(tmp_path / "mypy")}
    proc = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
                           str(ROOT / "tests" / "typing" / "facade_types.py"), str(bad)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    errors = [line for line in proc.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1 and errors[0].startswith(f"{bad}:5:") and "[assert-type]" in errors[0], proc.stdout
    assert proc.returncode == 1, proc.stdout + proc.stderr
