"""Named SQL queries, kept as ``.sql`` files in ``workbench/db/sql/`` with ``:name`` parameters.

The same text serves SQLAlchemy (``text()``, named binds) and ADBC (``$1`` positional binds).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import sqlalchemy as sa

__all__ = ["Query", "query"]

_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@dataclass(frozen=True, slots=True)
class Query:
    name: str
    sql: str

    @property
    def text(self) -> sa.TextClause:
        return sa.text(self.sql)

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_PARAM.findall(self.sql)))

    def positional(self, params: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
        """The query with ``$n`` placeholders and its argument tuple, for ADBC."""
        names = self.param_names
        missing = [n for n in names if n not in params]
        if missing:
            raise KeyError(f"query {self.name!r} needs parameter(s) {missing}")
        index = {n: i + 1 for i, n in enumerate(names)}
        sql = _PARAM.sub(lambda m: f"${index[m.group(1)]}", self.sql)
        return sql, tuple(params[n] for n in names)


@cache
def query(name: str) -> Query:
    """Load the named query from the package's ``db/sql`` folder."""
    path = resources.files("workbench.db") / "sql" / f"{name}.sql"
    try:
        return Query(name, path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KeyError(f"no query named {name!r}") from None
