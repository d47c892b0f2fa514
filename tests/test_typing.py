"""The typed package: mypy --strict is clean on it, the facade returns pandas/polars/arrow per frame kind
(tests/typing/), and no public signature outside the CLI mentions Any."""

from __future__ import annotations

import ast
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


#: module-level ``__getattr__`` hooks (lazy imports of a package's names) may return Any: mypy types the names
#: through their modules, the hook itself is never called by typed code
ANY_ALLOWED = frozenset({"workbench/present/__init__.py:__getattr__", "workbench/services/__init__.py:__getattr__"})
#: not yet typed (story.py was being edited elsewhere when this check came): ``start: object, end: object`` is
#: all it needs (format_time_kst takes object); remove it from here then
ANY_PENDING: frozenset[str] = frozenset()


def _mentions_any(node: ast.AST, aliases: frozenset[str]) -> bool:
    """Whether annotation ``node`` names ``Any`` (``typing.Any``, a quoted annotation, a module alias of one)."""
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and (n.id == "Any" or n.id in aliases):
            return True
        if isinstance(n, ast.Attribute) and n.attr == "Any":
            return True
        if isinstance(n, ast.Constant) and isinstance(n.value, str):
            try:
                quoted = ast.parse(n.value, mode="eval")
            except SyntaxError:
                continue
            if _mentions_any(quoted, aliases):
                return True
    return False


def _any_in_public_signatures(source: str, module: str) -> list[str]:
    """``module:qualname`` of each public function or method (of a public class) of ``source`` whose
    parameter or return annotations mention Any; dunder methods (``__init__``, ``__getattr__``) count as
    public."""
    tree = ast.parse(source)
    aliases = frozenset(
        t.id for node in tree.body if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None
        for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(t, ast.Name) and _mentions_any(node.value, frozenset()))

    def public(name: str) -> bool:
        return not name.startswith("_") or (name.startswith("__") and name.endswith("__"))

    functions: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            functions.append((node.name, node))
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            functions += [(f"{node.name}.{f.name}", f) for f in node.body
                          if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)]
    found = []
    for qualname, fn in functions:
        if not public(qualname.rpartition(".")[2]):
            continue
        a = fn.args
        annotations = [p.annotation for p in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg)
                       if p is not None and p.annotation is not None]
        if fn.returns is not None:
            annotations.append(fn.returns)
        if any(_mentions_any(x, aliases) for x in annotations):
            found.append(f"{module}:{qualname}")
    return found


def test_no_public_signature_outside_the_cli_mentions_any() -> None:
    """Every public function and method of the package's public modules (none of whose path parts starts
    with ``_``), outside ``workbench/cli/``, has parameter and return types without ``Any``; only the
    lazy-import ``__getattr__`` hooks are allowed. A control source (a function, a method, a quoted
    annotation, an alias) shows the check finds each kind."""
    control = ("from typing import Any\nimport typing\nRow = dict[str, Any]\n"
               "def f(x: int) -> Row: ...\ndef g(x: 'list[Any]') -> None: ...\ndef _h(x: Any) -> None: ...\n"
               "class C:\n    def m(self, *a: typing.Any) -> None: ...\n    def __init__(self, x: Any) -> None: ...\n"
               "class _D:\n    def m(self, x: Any) -> None: ...\ndef ok(x: object) -> dict[str, object]: ...\n")
    assert _any_in_public_signatures(control, "control") == ["control:f", "control:g", "control:C.m",
                                                             "control:C.__init__"]
    found = []
    for path in sorted((ROOT / "workbench").rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[1] == "cli" or any(p.startswith("_") and p != "__init__.py" for p in rel.parts):
            continue
        found += _any_in_public_signatures(path.read_text(encoding="utf-8"), rel.as_posix())
    assert sorted(set(found) - ANY_ALLOWED - ANY_PENDING) == []
    assert ANY_ALLOWED <= set(found)   # the allowed hooks are still there (else drop them from the list)
