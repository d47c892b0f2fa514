"""Named SQL queries, kept as ``.sql`` files in ``workbench/store/schema/queries/`` with ``:name`` parameters.

The same text serves SQLAlchemy (``text()``, bound parameters) and ADBC (values rendered as quoted
literals, so the statement can be streamed with COPY).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

import sqlalchemy as sa

from workbench.errors import UnknownNameError

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

    def literal(self, params: Mapping[str, object]) -> str:
        """The query with each ``:name`` replaced by ``params[name]`` quoted as an SQL literal by
        psycopg (``psycopg.sql.Literal``: strings escaped, datetimes typed), for statements that must
        carry no bind parameters (COPY)."""
        from psycopg import sql

        missing = [n for n in self.param_names if n not in params]
        if missing:
            raise UnknownNameError(f"query {self.name!r} needs parameter(s) {missing}")
        return _PARAM.sub(lambda m: sql.Literal(params[m.group(1)]).as_string(None), self.sql)


@cache
def query(name: str) -> Query:
    """Load the named query from the package's ``store/schema/queries`` folder."""
    path = resources.files("workbench.store") / "schema" / "queries" / f"{name}.sql"
    try:
        return Query(name, path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UnknownNameError(f"no query named {name!r}") from None
