"""requirements.lock (what ./wb installs) against pyproject.toml's ranges, and the test environment
against the lock."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
ENGINES = ("vectorbt", "numba", "pandas", "numpy")


def _lock() -> dict[str, tuple[Version, Marker | None, int]]:
    """name -> (pinned version, environment marker, number of hashes)."""
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    pins: dict[str, tuple[Version, Marker | None, int]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        head = block.split("\\", 1)[0].strip()
        if not head or head.startswith("#"):
            continue
        req = Requirement(head)
        (spec,) = req.specifier
        assert spec.operator == "==", f"{head}: not pinned"
        pins[canonicalize_name(req.name)] = (Version(spec.version), req.marker, block.count("--hash=sha256:"))
    return pins


def _declared(*, all_extras: bool = False) -> list[Requirement]:
    """pyproject.toml's dependencies and its ``dev`` extra (what the lock holds), or every extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    reqs = project["dependencies"] + [r for k, v in extras.items() if all_extras or k == "dev" for r in v]
    return [Requirement(r) for r in reqs]


def test_every_declared_dependency_is_locked_within_its_range() -> None:
    pins = _lock()
    for req in _declared():
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is in pyproject.toml but not in requirements.lock: run ./wb lock"
        version = pins[name][0]
        assert req.specifier.contains(version, prereleases=True), \
            f"{req.name}: locked {version} is outside pyproject.toml's {req.specifier}: run ./wb lock"


def test_every_locked_file_is_pinned_with_hashes() -> None:
    pins = _lock()
    assert len(pins) > 50
    assert all(n >= 1 for _, _, n in pins.values()), [k for k, (_, _, n) in pins.items() if n < 1]


def test_the_engines_have_upper_bounds() -> None:
    declared = {canonicalize_name(r.name): r for r in _declared(all_extras=True)}
    for name in ENGINES:
        ops = {s.operator for s in declared[name].specifier}
        assert ops & {"<", "<=", "==", "~="}, f"{name} has no upper bound: {declared[name].specifier}"


def test_this_environment_is_the_locked_one() -> None:
    """The versions that decide a backtest's numbers are the locked ones (else stored manifests would
    record a lock hash that does not describe the environment)."""
    pins = _lock()
    for name in (*ENGINES, "llvmlite", "pyarrow", "ta-lib"):
        if canonicalize_name(name) not in pins:  # e.g. an engine only the bench extra needs
            continue
        version, marker, _ = pins[canonicalize_name(name)]
        if marker is None or marker.evaluate():
            assert Version(metadata.version(name)) == version, \
                f"{name} {metadata.version(name)} is installed, requirements.lock has {version}"
