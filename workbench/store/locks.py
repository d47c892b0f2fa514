"""Session-level PostgreSQL advisory locks, for work several processes may race to do once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from workbench.store.database import Database
from workbench.store.queries import Q, query

__all__ = ["advisory_lock", "lock_key"]


def lock_key(name: uuid.UUID) -> int:
    """A signed 64-bit lock key of ``name``."""
    return (name.int & 0xFFFF_FFFF_FFFF_FFFF) - (1 << 63)


@contextmanager
def advisory_lock(db: Database, key: int) -> Iterator[None]:
    """Hold ``pg_advisory_lock(key)`` (waiting for it) for the block, on a pinned connection
    (:meth:`Database.begin` inside the block runs on it, so a pool of one connection is enough)."""
    with db.pinned() as conn:
        conn.execute(query(Q.ADVISORY_LOCK).text, {"key": key})
        conn.commit()
        try:
            yield
        finally:
            if conn.in_transaction():   # a failure inside the block left one open
                conn.rollback()
            conn.execute(query(Q.ADVISORY_UNLOCK).text, {"key": key})
            conn.commit()
