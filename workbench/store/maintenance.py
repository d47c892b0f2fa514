"""What every bulk write does inside its own transaction, after the upsert from ``_wb_stage``:

* archive guard: rows older than the table's archive watermark lower it, so retention cannot drop
  them before the next ``workbench archive`` (see :mod:`workbench.store.archive`).
"""

from __future__ import annotations

from typing import Any

from workbench.store.archive import guard_write_sql

__all__ = ["after_write"]


def after_write(cursor: Any, table: str) -> None:
    """Run the post-write maintenance for writer target ``table`` on ``cursor`` (an ADBC cursor whose
    connection holds the staged rows in ``_wb_stage``, inside the write's transaction)."""
    guard = guard_write_sql(table)
    if guard is not None:
        cursor.execute(guard)
