"""Which stored runs a user may see: backtests they own or that were shared with them, their own paper runs."""

from __future__ import annotations

from collections.abc import Collection

from workbench.store.database import Database
from workbench.store.queries import Q, query

__all__ = ["visible_backtests", "visible_paper_runs"]


def _visible(db: Database, name: Q, user_id: int, ids: Collection[int]) -> set[int]:
    if not ids:
        return set()
    with db.begin() as conn:
        return {int(i) for i in conn.execute(query(name).text, {"ids": sorted(ids), "user_id": user_id}).scalars()}


def visible_backtests(db: Database, user_id: int, ids: Collection[int]) -> set[int]:
    """Those of the ``backtest_results`` ids ``ids`` that ``user_id`` owns or that were shared with them."""
    return _visible(db, Q.BACKTEST_VISIBLE, user_id, ids)


def visible_paper_runs(db: Database, user_id: int, ids: Collection[int]) -> set[int]:
    """Those of the paper run ids ``ids`` that belong to ``user_id``."""
    return _visible(db, Q.PAPER_RUN_VISIBLE, user_id, ids)
