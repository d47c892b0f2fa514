"""Reproducibility manifest of a run: package versions and the git commit of the code."""

from __future__ import annotations

import platform
import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path

__all__ = ["git_commit", "package_versions"]

_PACKAGES = ("workbench", "numba", "numpy", "pandas", "polars", "pyarrow", "sqlalchemy",
             "psycopg", "adbc-driver-postgresql", "plotly")


@cache
def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def git_commit(path: Path | None = None) -> str | None:
    """``HEAD``'s hash of the repository holding ``path`` (default: the workbench source), with a
    ``-dirty`` suffix when tracked files have uncommitted changes; None outside a repository."""
    where = path or Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True,
                             timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=where,
                               capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{sha}-dirty" if dirty else sha
