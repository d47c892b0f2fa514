"""Read-only health figures of the database and Redis: connections, slow statements, table and hypertable
sizes, archive/retention watermarks, Redis memory, hit rate and keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlalchemy as sa

from workbench.store.database import Database
from workbench.store.queries import Q, query

if TYPE_CHECKING:
    import redis

__all__ = ["archive_state", "connections", "hypertable_sizes", "redis_stats", "server_connections", "slow_queries",
           "table_sizes"]


def _frame(db: Database, name: Q, params: dict[str, Any] | None = None) -> pd.DataFrame:
    with db.begin() as conn:
        result = conn.execute(query(name).text, params or {})
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def connections(db: Database) -> pd.DataFrame:
    """``state connections``: the server's connections to this database (pg_stat_activity)."""
    return _frame(db, Q.MONITOR_CONNECTIONS)


def server_connections(db: Database) -> tuple[int, int]:
    """``(client connections to the server, max_connections)``, every database counted."""
    with db.begin() as conn:
        used, most = conn.execute(query(Q.MONITOR_SERVER_CONNECTIONS).text).one()
    return int(used), int(most)


def slow_queries(db: Database, limit: int = 10) -> pd.DataFrame | None:
    """``query calls mean_ms total_ms`` of the slowest statements, or None without pg_stat_statements."""
    with db.begin() as conn:
        if not conn.execute(query(Q.MONITOR_HAS_PG_STAT_STATEMENTS).text).scalar():
            return None
    try:
        return _frame(db, Q.MONITOR_SLOW_QUERIES, {"limit": limit})
    except sa.exc.DBAPIError:   # installed but not preloaded (shared_preload_libraries)
        return None


def table_sizes(db: Database) -> pd.DataFrame:
    """``table_name bytes rows_estimate`` of the public schema's tables, largest first."""
    return _frame(db, Q.MONITOR_TABLE_SIZES)


def hypertable_sizes(db: Database) -> pd.DataFrame | None:
    """``table_name bytes before_bytes after_bytes`` of TimescaleDB hypertables (None on plain PostgreSQL)."""
    if not db.has_timescaledb:
        return None
    return _frame(db, Q.MONITOR_HYPERTABLE_SIZES)


def archive_state(db: Database) -> pd.DataFrame:
    """``table_name archived_until pending_until generation updated_at`` per archived market table."""
    return _frame(db, Q.MONITOR_ARCHIVE)


def redis_stats(client: redis.Redis) -> dict[str, int | float | None]:
    """``used_memory``, ``maxmemory`` (bytes; 0 = no limit), ``keys`` of the db, ``hits``, ``misses`` and
    ``hit_rate`` (None before the first lookup) since the server started."""
    info = client.info()
    hits, misses = int(info.get("keyspace_hits", 0)), int(info.get("keyspace_misses", 0))
    return {"used_memory": int(info["used_memory"]), "maxmemory": int(info.get("maxmemory", 0)),
            "keys": int(client.dbsize()), "hits": hits, "misses": misses,
            "hit_rate": hits / (hits + misses) if hits + misses else None}
