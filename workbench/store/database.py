"""The Database handle: a pooled SQLAlchemy engine for metadata and ADBC connections for Arrow I/O."""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import pyarrow as pa
import sqlalchemy as sa

from workbench.errors import InputTypeError
from workbench.store.queries import Q, query
from workbench.store.query_timings import QueryTimings

if TYPE_CHECKING:
    import pyarrow as pa
    from adbc_driver_manager.dbapi import Connection as AdbcConnection
    from adbc_driver_manager.dbapi import Cursor as AdbcCursor

__all__ = ["Database"]

_STAGE_BATCH = 5_000
_PG_TYPES = {"double": "float8", "string": "text", "large_string": "text", "int64": "int8", "int32": "int4",
             "bool": "boolean"}


def _pg_type(dtype: pa.DataType) -> str:
    if pa.types.is_timestamp(dtype):
        return "timestamptz" if dtype.tz else "timestamp"
    try:
        return _PG_TYPES[str(dtype)]
    except KeyError:
        raise InputTypeError(f"no PostgreSQL type for staged Arrow type {dtype}") from None


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
    pool_timeout : float
        Seconds to wait for a pooled connection before failing (SQLAlchemy's default, 30).
    single_connection : bool
        For servers that serve one connection at a time (e.g. PGlite over pglite-socket): no pool
        (every ``begin()`` opens and closes its own connection), no server-side prepared statements,
        the ADBC connection is closed after each use, and :meth:`stage` writes rows with batched
        ``INSERT`` instead of ``COPY FROM STDIN``.
        Callers must not nest ``begin()`` and ``adbc()``.

    Nothing connects until first use. No code path of the workbench holds one pooled connection while
    it waits for another, so any ``pool_size >= 1`` works: work that must keep a connection (a
    session-level advisory lock) runs inside :meth:`pinned`, and ``begin()`` reuses that connection.
    """

    def __init__(self, url: str, *, pool_size: int = 10, max_overflow: int = 20, pool_timeout: float = 30.0,
                 single_connection: bool = False) -> None:
        self.url = _plain_url(url)
        self.pool_size = pool_size
        self.max_overflow = max_overflow
        self.pool_timeout = pool_timeout
        self.single_connection = single_connection
        self._adbc_conn: AdbcConnection | None = None
        self._adbc_lock = threading.RLock()
        self._local = threading.local()   # this thread's pinned connection (see pinned())
        #: time spent in each named query (``workbench monitor``)
        self.timings = QueryTimings()

    def __repr__(self) -> str:
        parts = urlsplit(self.url)
        host = parts.hostname or "?"
        return f"Database({parts.username or ''}@{host}:{parts.port or 5432}{parts.path})"

    @cached_property
    def engine(self) -> sa.Engine:
        url = "postgresql+psycopg" + self.url[len("postgresql"):]
        if self.single_connection:
            # one server session behind every connection: no named prepared statements (they would
            # outlive the connection and collide with the next one's)
            engine = sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args={"prepare_threshold": None})
        else:
            engine = sa.create_engine(url, pool_size=self.pool_size, max_overflow=self.max_overflow,
                                      pool_timeout=self.pool_timeout, pool_pre_ping=True)
        _time_named_queries(engine, self.timings)
        return engine

    @contextlib.contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        """A pooled connection inside a transaction (committed on success, rolled back on error).

        Inside :meth:`pinned` (same thread) the pinned connection is used, when no transaction is
        open on it; a ``begin()`` nested in another ``begin()`` takes a second connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and not conn.closed and not conn.in_transaction():
            with conn.begin():
                yield conn
            return
        with self.engine.begin() as conn:
            yield conn

    @contextlib.contextmanager
    def pinned(self) -> Iterator[sa.Connection]:
        """One pooled connection, outside any transaction, that this thread's :meth:`begin` calls use
        until the block ends (each in a transaction of its own): for work that holds the connection
        (a session-level advisory lock) while it reads and writes, so it needs no second connection.
        Nested ``pinned()`` blocks share the outer block's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and not conn.closed:
            yield conn
            return
        with self.engine.connect() as conn:
            self._local.conn = conn
            try:
                yield conn
            finally:
                self._local.conn = None

    @contextlib.contextmanager
    def adbc(self) -> Iterator[AdbcConnection]:
        """This handle's ADBC connection (autocommit off), one user at a time: Arrow in and out.

        The connection is opened once and reused (opening one costs ~45 ms); a failure rolls back,
        and a connection that is no longer usable is dropped and reopened on the next use. In
        single-connection mode it is closed after each use.
        """
        with self._adbc_lock:
            conn = self._adbc_conn
            if conn is None:
                import adbc_driver_postgresql.dbapi as pg

                conn = self._adbc_conn = pg.connect(self.url)
                # closed at interpreter exit too, while the driver can still close it (otherwise its
                # __del__ runs during shutdown and prints "Exception ignored ... NoneType")
                self._adbc_finalizer = weakref.finalize(self, _close_quietly, conn)
            try:
                yield conn
            except BaseException:
                try:
                    conn.rollback()
                except Exception:  # the connection itself broke: forget it
                    self._close_adbc()
                raise
            finally:
                if self.single_connection:
                    self._close_adbc()

    def stage(self, cursor: AdbcCursor, name: str, data: pa.Table, *, append: bool = False) -> None:
        """Create temporary table ``name`` on ``cursor``'s connection and fill it with ``data``
        (``append``: add ``data`` to the table made by an earlier call).

        Binary ``COPY FROM STDIN`` (ADBC bulk ingest) normally; in single-connection mode the table
        is created with ``CREATE TEMP TABLE`` and filled by prepared ``INSERT`` batches of
        ``_STAGE_BATCH`` rows (servers such as pglite-socket crash on ``COPY FROM STDIN``).
        """
        if not self.single_connection:
            cursor.adbc_ingest(name, data, mode="append" if append else "create", temporary=True)
            return
        from psycopg import sql

        cols = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(f.name), sql.SQL(_pg_type(f.type))) for f in data.schema)
        if not append:
            cursor.execute(sql.SQL("CREATE TEMP TABLE {} ({})").format(sql.Identifier(name), cols).as_string(None))
        insert = sql.SQL("INSERT INTO {} VALUES ({})").format(
            sql.Identifier(name), sql.SQL(", ").join(sql.SQL(f"${i + 1}") for i in range(data.num_columns)))
        for offset in range(0, data.num_rows, _STAGE_BATCH):
            cursor.executemany(insert.as_string(None), data.slice(offset, _STAGE_BATCH))

    def _close_adbc(self) -> None:
        conn, self._adbc_conn = self._adbc_conn, None
        finalizer = getattr(self, "_adbc_finalizer", None)
        if finalizer is not None:
            finalizer.detach()
        if conn is not None:
            _close_quietly(conn)

    def fetch_arrow(self, name: Q, params: Mapping[str, object]) -> pa.Table:
        """Run named query ``name`` with ``params``; return a ``pyarrow.Table``.

        The values are rendered into the statement as SQL literals by psycopg's quoting
        (``psycopg.sql.Literal``), not as server-side bind parameters: PostgreSQL can only stream a
        parameterless query with ``COPY ... TO STDOUT (FORMAT BINARY)``, which is what ADBC then uses
        (measured on 5M rows: 20 % faster and 60 % less memory than binding).
        """
        sql = query(name).literal(params)
        started = time.perf_counter()
        with self.adbc() as conn, conn.cursor() as cur:
            cur.execute(sql)
            table = cur.fetch_arrow_table()
            conn.rollback()
        self.timings.record(name, (time.perf_counter() - started) * 1000)
        return table

    @cached_property
    def has_timescaledb(self) -> bool:
        with self.begin() as conn:
            return bool(conn.execute(query(Q.HAS_TIMESCALEDB).text).scalar())

    def forget_schema_facts(self) -> None:
        """Forget what was learnt about the schema (:attr:`has_timescaledb`), to be asked again after a
        migration."""
        self.__dict__.pop("has_timescaledb", None)

    def dispose(self) -> None:
        """Close the ADBC connection and the pool (they reopen on next use)."""
        with self._adbc_lock:
            self._close_adbc()
        if "engine" in self.__dict__:
            self.engine.dispose()
            del self.__dict__["engine"]


def _time_named_queries(engine: sa.Engine, timings: QueryTimings) -> None:
    """Record the execution time of every statement that carries a query name (:attr:`Query.text`)."""

    def before(conn: sa.Connection, cursor: Any, statement: str, parameters: Any, context: Any,
               executemany: bool) -> None:
        if context is not None:
            context.workbench_started = time.perf_counter()

    def after(conn: sa.Connection, cursor: Any, statement: str, parameters: Any, context: Any,
              executemany: bool) -> None:
        started = getattr(context, "workbench_started", None)
        name = context.execution_options.get("workbench_query") if started is not None else None
        if name and started is not None:
            timings.record(str(name), (time.perf_counter() - started) * 1000)

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)


def _close_quietly(conn: AdbcConnection) -> None:
    with contextlib.suppress(Exception):
        conn.close()
