from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from workbench.errors import MigrationError
from workbench.store.database import Database
from workbench.store.migrations import available_migrations, migrate, migration_status

#: The schema document (a copy of the project's shared/schema.md), part of the repository so the
#: comparison runs in every checkout.
SCHEMA_DOC = Path(__file__).resolve().parents[1] / "data" / "schema.md"


def _doc_tables() -> dict[str, set[str]]:
    """Table -> column names, parsed from the CREATE TABLE blocks of tests/data/schema.md."""
    text = SCHEMA_DOC.read_text(encoding="utf-8")
    tables: dict[str, set[str]] = {}
    for name, body in re.findall(r"CREATE TABLE (\w+) \((.*?)\n\);", text, re.S):
        cols: set[str] = set()
        for line in body.splitlines():
            line = line.split("--")[0].strip()
            for part in line.split(","):
                m = re.match(r"^(\w+)\s+(SERIAL|VARCHAR|TEXT|INTEGER|BOOLEAN|TIMESTAMP|FLOAT|JSONB|order_)",
                             part.strip())
                if m:
                    cols.add(m.group(1))
        tables[name] = cols
    return tables


def _doc_indexes() -> set[str]:
    return set(re.findall(r"CREATE INDEX (\w+) ON", SCHEMA_DOC.read_text(encoding="utf-8")))


def test_every_documented_table_column_and_index_exists(db: Database) -> None:
    doc = _doc_tables()
    assert len(doc) == 14
    with db.begin() as conn:
        rows = conn.execute(sa.text(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
        )).all()
        indexes = {r[0] for r in conn.execute(sa.text("SELECT indexname FROM pg_indexes"))}
        enums = dict(conn.execute(sa.text(
            "SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_type t "
            "JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname")).all())
    actual: dict[str, set[str]] = {}
    for table, col in rows:
        actual.setdefault(table, set()).add(col)
    for table, cols in doc.items():
        assert table in actual, f"table {table} missing"
        assert cols <= actual[table], f"{table} lacks {cols - actual[table]}"
    assert _doc_indexes() <= indexes
    assert enums["order_type_enum"] == ["buy", "sell"]
    assert enums["order_status_enum"] == ["pending", "partially_filled", "filled", "cancelled", "rejected"]


def test_migrate_is_idempotent_and_versioned(db: Database) -> None:
    assert migrate(db) == []  # the session database is already migrated
    st = migration_status(db)
    assert st.up_to_date and st.changed == ()
    assert st.applied == tuple(m.version for m in available_migrations())


def test_migrate_on_an_empty_database_then_again(server_url: str) -> None:
    import uuid

    name = f"wbmig_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        db = Database(server_url.rsplit("/", 1)[0] + "/" + name)
        first = migrate(db)
        assert [m.version for m in first] == [m.version for m in available_migrations()]
        assert migrate(db) == []
        db.dispose()
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_plain_postgres_has_no_hypertables_but_timescale_block_is_guarded(db: Database) -> None:
    # this machine's servers have no timescaledb: the tables must be ordinary and usable
    assert db.has_timescaledb is False
    text = next(m.sql for m in available_migrations() if m.name == "market_data")
    assert "create_hypertable" in text and "add_retention_policy" in text and "INTERVAL '30 days'" in text
    assert "add_compression_policy" in text and "pg_available_extensions" in text


def test_bad_migration_rolls_back_and_is_reported(db: Database, tmp_path: Path, monkeypatch) -> None:
    from workbench.store import migrations as migrate_mod

    (tmp_path / "0001_ok.sql").write_text("CREATE TABLE wb_probe_ok (id int);")
    (tmp_path / "0002_bad.sql").write_text("CREATE TABLE wb_probe_bad (id int); SELECT no_such_function();")
    monkeypatch.setattr(migrate_mod, "migrations_dir", lambda: tmp_path)
    with db.begin() as conn:
        conn.exec_driver_sql("DELETE FROM schema_migrations")
    try:
        with pytest.raises(MigrationError, match="0002_bad failed and was rolled back"):
            migrate_mod.migrate(db)
        with db.begin() as conn:
            tables = {r[0] for r in conn.exec_driver_sql(
                "SELECT tablename FROM pg_tables WHERE tablename LIKE 'wb_probe%%'")}
        assert tables == {"wb_probe_ok"}
    finally:
        with db.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS wb_probe_ok; DELETE FROM schema_migrations")
        monkeypatch.undo()
        migrate(db)  # restore the real bookkeeping (all statements are IF NOT EXISTS)
    assert migration_status(db).up_to_date
