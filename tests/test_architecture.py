"""The layers of the package (pyproject.toml [tool.importlinter]) hold: no import goes upwards, and the
pure core imports no database, cache, network or subprocess module."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe is not None, "import-linter is a dev dependency: pip install -e .[dev]"
    proc = subprocess.run([exe, "--config", str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_importing_the_package_imports_no_heavy_engine() -> None:
    """``import workbench`` (and the pure core's strategies) stays light: no vectorbt, no database."""
    code = ("import sys, workbench, workbench.core.strategies, workbench.core.backtest; "
            "bad = [m for m in ('vectorbt', 'sqlalchemy', 'redis', 'papermill', 'plotly') if m in sys.modules]; "
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == ""
