"""``workbench db``: the database schema (migrations)."""

from __future__ import annotations

import typer

from workbench.cli.base import App
from workbench.cli.context import CliContext

app = App(help="Database schema.")


@app.command("init")
def db_init(ctx: typer.Context) -> None:
    """Create or upgrade the schema (idempotent)."""
    from workbench.store.migrations import migrate, migration_status

    cli = CliContext.of(ctx)
    wb = cli.connect(init_db=False, need_redis=False, cache_enabled=False)  # no cache secret before the schema
    for m in migrate(wb.db):
        cli.out.print(f"applied {m.version:04d}_{m.name}")
    st = migration_status(wb.db)
    cli.out.print(f"schema up to date at version {max(st.applied)}"
                  f" ({'TimescaleDB' if st.timescaledb else 'plain PostgreSQL: no hypertables/policies'})")


@app.command("status")
def db_status(ctx: typer.Context) -> None:
    """Applied and pending migrations."""
    from workbench.store.migrations import migration_status

    cli = CliContext.of(ctx)
    st = migration_status(cli.connect(init_db=False, need_redis=False, cache_enabled=False).db)
    cli.out.print(f"applied: {list(st.applied)}\npending: {list(st.pending)}\nchanged since applied: "
                  f"{list(st.changed)}\ntimescaledb: {st.timescaledb}")
    if st.pending:
        raise typer.Exit(1)
