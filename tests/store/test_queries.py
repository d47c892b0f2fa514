"""The query registry: every ``.sql`` file has a ``Q`` member and is used, every name used exists, and no
call site names a query by a string."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from workbench.errors import UnknownNameError
from workbench.store.queries import Q, query

PACKAGE = Path(__file__).resolve().parents[2] / "workbench"
QUERY_DIR = PACKAGE / "store" / "schema" / "queries"
#: the functions whose first argument names a query (the store's private helpers that pass a name on take
#: a ``Q`` too, which mypy checks)
_TAKES_A_NAME = {"query", "fetch_arrow", "_table_query"}


def _modules() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(encoding="utf-8"))) for p in sorted(PACKAGE.rglob("*.py"))
            if p != PACKAGE / "store" / "queries.py"]


def _members_used() -> dict[str, list[str]]:
    used: dict[str, list[str]] = {}
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Q":
                used.setdefault(node.attr, []).append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    return used


def test_every_sql_file_has_a_member_and_every_member_a_file() -> None:
    files = {p.stem for p in QUERY_DIR.glob("*.sql")}
    members = {q.value for q in Q}
    assert sorted(files - members) == [], "add these files' names to Q"
    assert sorted(members - files) == [], "these members have no .sql file"
    assert all(q.name == q.value.upper() for q in Q)


def test_every_query_is_used_and_every_name_used_exists() -> None:
    used = _members_used()
    assert sorted(q.name for q in Q if q.name not in used) == [], "unused queries: delete their files"
    unknown = {name: where for name, where in used.items() if name not in Q.__members__}
    assert unknown == {}


def test_no_query_is_named_by_a_string_at_a_call_site() -> None:
    strings = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in _TAKES_A_NAME and isinstance(node.args[0], ast.Constant | ast.JoinedStr):
                strings.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert strings == []


def test_an_unknown_name_is_refused_with_the_name() -> None:
    with pytest.raises(UnknownNameError, match=r"^no query named 'archive_watermark_get'$"):
        query("archive_watermark_get")  # type: ignore[arg-type]   # deleted: nothing read it
    assert query(Q.ENSURE_USER).name == "ensure_user" and ":username" in query(Q.ENSURE_USER).sql
