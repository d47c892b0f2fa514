"""Reproducibility manifest of a run: package versions, the dependency lock's hash, the git commit of
the code, and digests of the result (equity, trades, metrics) that a re-run is compared with."""

from __future__ import annotations

import hashlib
import platform
import struct
import subprocess
from collections.abc import Mapping
from functools import cache
from importlib import metadata, resources
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.core.backtest import BacktestResult

__all__ = ["LOCK_FILE", "LOCK_KEY", "git_commit", "lock_hash", "package_versions", "result_digests"]

#: The dependency lock at the repository root (``./wb`` installs from it; ``./wb lock`` writes it).
LOCK_FILE = "requirements.lock"
#: Key of the lock's sha256 in a manifest's ``package_versions``.
LOCK_KEY = "requirements.lock"

_PACKAGES = ("workbench", "numba", "llvmlite", "numpy", "pandas", "polars", "pyarrow", "sqlalchemy",
             "psycopg", "adbc-driver-postgresql", "plotly")


def _lock_bytes() -> bytes | None:
    checkout = Path(__file__).resolve().parents[2] / LOCK_FILE  # an editable install / a checkout
    if checkout.is_file():
        return checkout.read_bytes()
    packaged = resources.files("workbench").joinpath("_" + LOCK_FILE)  # a wheel (force-included)
    return packaged.read_bytes() if packaged.is_file() else None


@cache
def lock_hash() -> str | None:
    """sha256 (hex) of the dependency lock the workbench was installed from; None if it has none."""
    data = _lock_bytes()
    return None if data is None else hashlib.sha256(data).hexdigest()


@cache
def package_versions() -> dict[str, str]:
    """Python and the versions of the packages that decide a run's numbers, plus the lock's hash
    (under :data:`LOCK_KEY`): with the lock of that hash the environment can be installed again."""
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    lock = lock_hash()
    if lock is not None:
        out[LOCK_KEY] = lock
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


def _column_bytes(values: pd.Series | pd.Index) -> bytes:
    """The exact bits of a column: int64 nanoseconds for times (NaT included), the float64/int64/bool
    buffer for numbers, the text of anything else."""
    if isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(values.dtype):
        times = pd.DatetimeIndex(values)
        if times.tz is not None:
            times = times.tz_convert("UTC")
        return np.ascontiguousarray(times.as_unit("ns").asi8).tobytes()
    if pd.api.types.is_bool_dtype(values.dtype):
        return np.ascontiguousarray(np.asarray(values, dtype=np.uint8)).tobytes()
    if pd.api.types.is_integer_dtype(values.dtype):
        return np.ascontiguousarray(np.asarray(values, dtype=np.int64)).tobytes()
    if pd.api.types.is_float_dtype(values.dtype):
        return np.ascontiguousarray(np.asarray(values, dtype=np.float64)).tobytes()
    return "\x1f".join("\x00" if pd.isna(v) else str(v) for v in values).encode()


def _frame_digest(frame: pd.DataFrame) -> str:
    h = hashlib.sha256()
    h.update(_column_bytes(frame.index))
    for name in frame.columns:
        h.update(b"\x1e" + str(name).encode() + b"\x1e")
        h.update(_column_bytes(frame[name]))
    return h.hexdigest()


def _metrics_digest(metrics: Mapping[str, float | int]) -> str:
    h = hashlib.sha256()
    for key in sorted(metrics):
        value = metrics[key]
        h.update(key.encode() + b"=")
        h.update(struct.pack("<q", value) if isinstance(value, int | np.integer) and not isinstance(value, bool)
                 else struct.pack("<d", float(value)))
    return h.hexdigest()


def result_digests(result: BacktestResult) -> dict[str, str]:
    """sha256 of the bits of a result's full equity curve (times and values), its trade list (every
    column) and its metrics: equal digests mean a bit-for-bit identical result."""
    return {
        "equity": _frame_digest(result.equity.to_frame("equity")),
        "trades": _frame_digest(result.trades.reset_index(drop=True)),
        "metrics": _metrics_digest(dict(result.metrics.to_dict())),
    }
