"""The Database handle: a pooled SQLAlchemy engine for metadata and ADBC connections for Arrow I/O."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa

from workbench.db.queries import query

if TYPE_CHECKING:
    from adbc_driver_manager.dbapi import Connection as AdbcConnection

__all__ = ["Database"]


def _plain_url(url: str) -> str:
    parts = urlsplit(url)
    scheme = "postgresql" if parts.scheme.startswith("postgres") else parts.scheme
    return urlunsplit((scheme, *parts[1:]))


class Database:
    """One PostgreSQL database.

    Parameters
    ----------
    url : str
        ``postgresql://user@host:port/dbname``.
    pool_size, max_overflow : int
        SQLAlchemy pool limits (10 and 20 by default, as the schema document asks).

    Nothing connects until first use.
    """

    def __init__(self, url: str, *, pool_size: int = 10, max_overflow: int = 20) -> None:
        self.url = _plain_url(url)
        self.pool_size = pool_size
        self.max_overflow = max_overflow

    def __repr__(self) -> str:
        parts = urlsplit(self.url)
        host = parts.hostname or "?"
        return f"Database({parts.username or ''}@{host}:{parts.port or 5432}{parts.path})"

    @cached_property
    def engine(self) -> sa.Engine:
        return sa.create_engine(
            "postgresql+psycopg" + self.url[len("postgresql"):],
            pool_size=self.pool_size,
            max_overflow=self.max_overflow,
            pool_pre_ping=True,
        )

    @contextlib.contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        """A pooled connection inside a transaction (committed on success, rolled back on error)."""
        with self.engine.begin() as conn:
            yield conn

    @contextlib.contextmanager
    def adbc(self) -> Iterator[AdbcConnection]:
        """A fresh ADBC connection (autocommit off): Arrow in and out over binary COPY."""
        import adbc_driver_postgresql.dbapi as pg

        conn = pg.connect(self.url)
        try:
            yield conn
        except BaseException:
            with contextlib.suppress(Exception):
                conn.rollback()
            raise
        finally:
            conn.close()

    def fetch_arrow(self, name: str, params: dict[str, Any]) -> Any:
        """Run named query ``name`` with bound ``params``; return a ``pyarrow.Table``."""
        q = query(name)
        sql, args = q.positional(params)
        with self.adbc() as conn, conn.cursor() as cur:
            cur.execute(sql, args)
            table = cur.fetch_arrow_table()
            conn.rollback()
        return table

    @cached_property
    def has_timescaledb(self) -> bool:
        with self.begin() as conn:
            return bool(conn.execute(query("has_timescaledb").text).scalar())

    def dispose(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
            del self.__dict__["engine"]
