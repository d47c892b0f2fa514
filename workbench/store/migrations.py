"""Versioned, idempotent schema migrations from ``workbench/store/schema/migrations/NNNN_name.sql``.

Each file runs once, in its own transaction, under an advisory lock (two processes cannot migrate at
once); ``schema_migrations`` records version, name, checksum and time. An applied file whose text has
changed is reported, not silently re-run.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import psycopg
import sqlalchemy as sa

from workbench.errors import MigrationError
from workbench.store.database import Database
from workbench.store.queries import Q, query

__all__ = ["Migration", "MigrationStatus", "available_migrations", "migrate", "migration_status"]

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = 7_261_001  # pg_advisory_xact_lock key of workbench migrations


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class MigrationStatus:
    applied: tuple[int, ...]
    pending: tuple[int, ...]
    changed: tuple[int, ...]
    timescaledb: bool

    @property
    def up_to_date(self) -> bool:
        return not self.pending


def migrations_dir() -> Path:
    """The folder of migration files, inside the package (``workbench/store/schema/migrations``; the
    checkout's ``sql/`` is a link to ``workbench/store/schema``)."""
    return Path(str(resources.files("workbench.store") / "schema" / "migrations"))


def available_migrations(folder: Path | None = None) -> list[Migration]:
    folder = folder or migrations_dir()
    found = []
    for path in sorted(folder.glob("*.sql")):
        m = _FILE.match(path.name)
        if not m:
            raise MigrationError(f"migration file {path.name!r} is not named NNNN_name.sql")
        found.append(Migration(int(m.group(1)), m.group(2), path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration versions in {folder}: {versions}")
    if not found:
        raise MigrationError(f"no migration files in {folder}")
    return found


def _applied(conn: sa.Connection) -> dict[int, str]:
    conn.execute(query(Q.MIGRATIONS_TABLE).text)
    rows = conn.execute(query(Q.MIGRATIONS_APPLIED).text).all()
    return {int(v): str(c) for v, c in rows}


def migration_status(db: Database) -> MigrationStatus:
    """Which migrations are applied, pending, or changed since they were applied."""
    migrations = available_migrations()
    with db.begin() as conn:
        applied = _applied(conn)
    pending = tuple(m.version for m in migrations if m.version not in applied)
    changed = tuple(m.version for m in migrations if m.version in applied and applied[m.version] != m.checksum)
    return MigrationStatus(tuple(sorted(applied)), pending, changed, db.has_timescaledb)


def migrate(db: Database) -> list[Migration]:
    """Apply the pending migrations in order; return those applied (empty when up to date)."""
    done: list[Migration] = []
    for mig in available_migrations():
        with db.begin() as conn:
            conn.execute(query(Q.MIGRATIONS_LOCK).text, {"key": _LOCK_KEY})
            if mig.version in _applied(conn):
                continue
            try:
                # raw driver call without parameters: psycopg then leaves '%' in the SQL alone
                # a pooled connection always has its driver (psycopg) connection
                conn.connection.driver_connection.execute(mig.sql)  # type: ignore[union-attr]
            except (sa.exc.DBAPIError, psycopg.Error) as err:
                raise MigrationError(
                    f"migration {mig.version:04d}_{mig.name} failed and was rolled back: "
                    f"{getattr(err, 'orig', err)}"
                ) from err
            conn.execute(query(Q.MIGRATIONS_RECORD).text,
                         {"version": mig.version, "name": mig.name, "checksum": mig.checksum})
            done.append(mig)
    db.forget_schema_facts()
    return done
