"""Strategies by name: the one place where a name becomes a Strategy class.

A reference is, in this order:

* ``path/to/file.py:Name`` (or ``path/to/file.py`` when the file defines one strategy), or a name with
  ``strategy_file=`` (``--strategy-file``): a class or ``@strategy`` function of a user's file;
* a built-in strategy (``EmaCross``);
* the name of an entry point of the group ``workbench.core.strategies`` (an installed package declaring
  ``[project.entry-points."workbench.core.strategies"] my_cross = "my_pkg.strategies:MyCross"``);
* ``module:Name``: a class importable from an installed module, or made by ``@strategy`` in this process.

A user's file is imported once per content (its sha256): its strategies' ``class_path`` is the file's
absolute path and class name, so a stored run or paper run finds the file again, and
:func:`strategy_source` gives the path and sha256 of the content a strategy ran with (the manifest keeps
them: ``workbench rerun`` refuses a file that changed since).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from workbench.core.strategies.base import Risk, Strategy, registered
from workbench.core.strategies.builtin import BUILTIN_STRATEGIES
from workbench.core.strategies.portfolio import PORTFOLIO_STRATEGIES
from workbench.errors import StrategyError

__all__ = ["ENTRY_POINT_GROUP", "StrategySource", "available_strategies", "file_sha256", "is_strategy_reference",
           "load_strategy_file", "make_strategy", "resolve_strategy", "strategy_source"]

ENTRY_POINT_GROUP: Final = "workbench.core.strategies"
#: strategy_class is VARCHAR(200) in backtest_manifests
_MAX_CLASS_PATH: Final = 200


@dataclass(frozen=True, slots=True)
class StrategySource:
    """The user's file a strategy class was loaded from, and the sha256 of the content loaded."""

    file: str
    sha256: str

    def to_dict(self) -> dict[str, str]:
        return {"file": self.file, "sha256": self.sha256}


_FILES: dict[tuple[str, str], dict[str, type[Strategy]]] = {}   # (path, sha256) -> its strategies
_LATEST: dict[str, str] = {}                                     # path -> sha256 of the last load


def file_sha256(path: str | Path) -> str:
    """sha256 (hex) of a strategy file's content; StrategyError if it cannot be read."""
    path = Path(path)
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as err:
        raise StrategyError(f"strategy file {str(path)!r} cannot be read: {err.strerror or err}") from None


def load_strategy_file(path: str | Path) -> dict[str, type[Strategy]]:
    """The strategies defined in the Python file ``path`` (by class name and by variable name), imported
    once per content. Raises StrategyError if the file is missing, fails to import or defines none."""
    p = Path(path).expanduser().resolve()
    if p.suffix != ".py" or not p.is_file():
        raise StrategyError(f"strategy file {str(path)!r} is not an existing .py file")
    sha = file_sha256(p)
    key = (str(p), sha)
    if key not in _FILES:
        _FILES[key] = _import_file(p, sha)
    _LATEST[str(p)] = sha
    return _FILES[key]


def _import_file(p: Path, sha: str) -> dict[str, type[Strategy]]:
    module_name = f"_workbench_user_strategies_{sha[:16]}"
    spec = importlib.util.spec_from_file_location(module_name, p)
    if spec is None or spec.loader is None:
        raise StrategyError(f"strategy file {str(p)!r} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # the user's code: any error it raises is reported as the file's
        del sys.modules[module_name]
        raise StrategyError(f"strategy file {str(p)!r} failed to import: {type(err).__name__}: {err}") from None
    found: dict[str, type[Strategy]] = {}
    for attr, obj in vars(module).items():
        if (isinstance(obj, type) and issubclass(obj, Strategy) and obj.__module__ == module_name
                and not inspect.isabstract(obj)):
            # a marker on the user's class (read by Strategy.__reduce_ex__ and class_path)
            obj.__strategy_source__ = StrategySource(str(p), sha)  # type: ignore[attr-defined]
            if len(f"{p}:{obj.__qualname__}") > _MAX_CLASS_PATH:
                raise StrategyError(f"strategy file {str(p)!r}: the path and class name are longer than "
                                    f"{_MAX_CLASS_PATH} characters; move the file to a shorter path")
            found.setdefault(obj.__name__, obj)
            found.setdefault(attr, obj)
    if not found:
        raise StrategyError(f"strategy file {str(p)!r} defines no Strategy class or @strategy function")
    return found


def strategy_source(cls_or_path: type[Strategy] | str) -> StrategySource | None:
    """The file and content (sha256) a strategy class, or a stored ``class_path``, comes from; None for
    strategies that are not from a user's file."""
    if isinstance(cls_or_path, type):
        found = cls_or_path.__dict__.get("__strategy_source__")
        return found if isinstance(found, StrategySource) else None
    path, sep, _ = cls_or_path.rpartition(":")
    if not sep or not path.endswith(".py"):
        return None
    sha = _LATEST.get(path)
    return None if sha is None else StrategySource(path, sha)


def _entry_points() -> dict[str, Any]:
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def _entry_point_class(name: str, ep: Any) -> type[Strategy]:
    try:
        obj = ep.load()
    except Exception as err:  # an installed package's code
        raise StrategyError(f"entry point {name!r} ({ep.value}) of {ENTRY_POINT_GROUP} failed to load: "
                            f"{type(err).__name__}: {err}") from None
    if not (isinstance(obj, type) and issubclass(obj, Strategy)):
        raise StrategyError(f"entry point {name!r} ({ep.value}) is not a Strategy class")
    return obj


def _split_file_reference(ref: str) -> tuple[str, str | None] | None:
    if ref.endswith(".py"):
        return ref, None
    path, sep, name = ref.rpartition(":")
    if sep and path.endswith(".py"):
        return path, name
    return None


def _from_file(path: str, name: str | None) -> type[Strategy]:
    classes = load_strategy_file(path)
    if name is None:
        distinct = set(classes.values())
        if len(distinct) != 1:
            raise StrategyError(f"strategy file {path!r} defines {len(distinct)} strategies "
                                f"({', '.join(sorted(c.__name__ for c in distinct))}); name one: {path}:NAME")
        return next(iter(distinct))
    if name not in classes:
        raise StrategyError(f"strategy file {path!r} defines no strategy {name!r}; it defines "
                            f"{', '.join(sorted({c.__name__ for c in classes.values()}))}")
    return classes[name]


def _builtins() -> dict[str, type[Strategy]]:
    """The built-in strategies by name: per-symbol, then portfolio."""
    return {**BUILTIN_STRATEGIES, **PORTFOLIO_STRATEGIES}


def is_strategy_reference(ref: str) -> bool:
    """Whether ``ref`` names a strategy without the database: a file, a built-in or an entry point."""
    return _split_file_reference(ref) is not None or ref in _builtins() or ref in _entry_points()


def resolve_strategy(ref: str, *, strategy_file: str | Path | None = None) -> type[Strategy]:
    """The Strategy class ``ref`` names (see the module doc); ``strategy_file``: look ``ref`` up in that
    file. Raises StrategyError naming ``ref`` and what is known if there is none."""
    if strategy_file is not None and str(strategy_file):
        return _from_file(str(strategy_file), ref or None)
    in_file = _split_file_reference(ref)
    if in_file is not None:
        return _from_file(*in_file)
    if ref in _builtins():
        return _builtins()[ref]
    eps = _entry_points()
    if ref in eps:
        return _entry_point_class(ref, eps[ref])
    if ":" in ref:
        return _import_class(ref)
    known = [*_builtins(), *sorted(eps)]
    raise StrategyError(f"strategy {ref!r} is not one of {', '.join(known)} (or give a file: "
                        "path.py:Name, or --strategy-file path.py)")


def _import_class(path: str) -> type[Strategy]:
    cls = registered(path)
    if cls is not None:
        return cls
    module, _, name = path.partition(":")
    if module == "workbench.core.strategies.builtin" and name in BUILTIN_STRATEGIES:
        return BUILTIN_STRATEGIES[name]
    if module == "__main__":
        raise StrategyError(f"strategy class {path!r} was defined in a notebook or script; run the cell "
                            "that defines it (with @strategy) in this session, then load again")
    try:
        obj = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as err:
        raise StrategyError(f"cannot import strategy class {path!r}: {err}") from None
    if not (isinstance(obj, type) and issubclass(obj, Strategy)):
        raise StrategyError(f"{path!r} is not a Strategy class")
    return obj


def make_strategy(ref: str, *, strategy_file: str | Path | None = None, name: str | None = None,
                  risk: Risk | None = None, description: str | None = None, **params: object) -> Strategy:
    """The strategy ``ref`` names (:func:`resolve_strategy`), built with ``name``, ``risk`` and
    parameters ``params``."""
    return resolve_strategy(ref, strategy_file=strategy_file)(name=name, risk=risk, description=description, **params)


def available_strategies() -> dict[str, type[Strategy]]:
    """The built-in strategies and those of installed entry points, by name."""
    out = _builtins()
    for name, ep in sorted(_entry_points().items()):
        out.setdefault(name, _entry_point_class(name, ep))
    return out


def rebuild(source: StrategySource, qualname: str, state: Mapping[str, object]) -> Strategy:
    """Unpickle a strategy of a user's file (in another process, e.g. a Dask worker): the file is
    imported there, and must hold the same content."""
    sha = file_sha256(Path(source.file))
    if sha != source.sha256:
        raise StrategyError(f"strategy file {source.file!r} changed since {qualname} was loaded from it "
                            f"(sha256 {source.sha256[:16]}…, now {sha[:16]}…)")
    cls = _from_file(source.file, qualname)
    obj = cls.__new__(cls)
    obj.__dict__.update(state)
    return obj
