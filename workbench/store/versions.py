"""Data versions (bumped by every write that changes candles, in its transaction) and the cache secret."""

from __future__ import annotations

import secrets
from typing import Final

import sqlalchemy as sa

from workbench.errors import MigrationError
from workbench.store.database import Database
from workbench.store.queries import Q, query

__all__ = ["cache_secret", "data_version"]

_SECRET_NAME: Final = "cache_hmac"  # noqa: S105 (the row name, not a secret)


def data_version(db: Database, table: str, symbol: str) -> int:
    """The current data version of ``symbol`` in ``table`` (0 before its first write)."""
    with db.begin() as conn:
        return int(conn.execute(query(Q.DATA_VERSION_GET).text, {"table_name": table, "symbol": symbol}).scalar()
                   or 0)


def cache_secret(db: Database) -> bytes:
    """The database's random HMAC key for cached values, created on first use (32 bytes).

    Raises MigrationError when the database has no workbench schema yet (``workbench db init``)."""
    try:
        with db.begin() as conn:
            conn.execute(query(Q.SECRET_INIT).text, {"name": _SECRET_NAME, "value": secrets.token_hex(32)})
            value = conn.execute(query(Q.SECRET_GET).text, {"name": _SECRET_NAME}).scalar()
    except sa.exc.ProgrammingError as err:
        if getattr(err.orig, "sqlstate", None) != "42P01":   # undefined_table
            raise
        raise MigrationError(f"database {db!r} has no workbench schema (no table workbench_secrets); "
                             "run `workbench db init`") from None
    return bytes.fromhex(str(value))
