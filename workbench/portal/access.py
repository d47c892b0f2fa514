"""Who may read which report in the portal.

A report names the stored runs it shows in its ``<report>.json`` (written next to the HTML by
``workbench report``): ``backtest_id`` (strategy_backtest), ``backtest_ids`` (run_comparison),
``paper_run_ids`` (reconciliation); for files written before those keys existed, the ``run_ids``
parameter of run_comparison and the ``run_id`` parameter of reconciliation. A user may read a report when
they may see every run it names (:mod:`workbench.store.visibility`: their own backtests and those shared
with them, their own paper runs). A report that names no run, and any file without a ``.json`` next to it,
is for every signed-in user; one whose ``.json`` cannot be read is for no one. The ``.json`` and ``.ipynb``
of a report follow its rule (same name).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from workbench.store.database import Database
from workbench.store.visibility import visible_backtests, visible_paper_runs

__all__ = ["ReportAccess", "report_runs"]

E = TypeVar("E", bound=Mapping[str, object])   # an index entry (workbench.present.index.ReportEntry)


def _ids(value: object) -> set[int]:
    """Positive integer ids from an int, a list of them or comma-separated text; others are left out."""
    items = value if isinstance(value, list) else str(value).split(",") if isinstance(value, str) else [value]
    out = set()
    for item in items:
        try:
            number = int(str(item).strip())
        except ValueError:
            continue
        if number > 0:
            out.add(number)
    return out


def report_runs(meta: Mapping[str, object]) -> tuple[set[int], set[int]]:
    """``(backtest ids, paper run ids)`` a report's metadata names."""
    given = meta.get("parameters")
    params: Mapping[str, object] = given if isinstance(given, dict) else {}
    backtests = _ids(meta.get("backtest_id")) | _ids(meta.get("backtest_ids") or [])
    papers = _ids(meta.get("paper_run_ids") or [])
    if meta.get("notebook") == "run_comparison" and "backtest_ids" not in meta:
        backtests |= _ids(params.get("run_ids", ""))
    if meta.get("notebook") == "reconciliation" and "paper_run_ids" not in meta:
        papers |= _ids(params.get("run_id", ""))
    return backtests, papers


def _meta(path: Path) -> dict[str, object] | None:
    """The ``.json`` next to ``path`` ({} when there is none; None when it is there but unreadable)."""
    sidecar = path.with_suffix(".json")
    if not sidecar.exists():
        return {}
    try:
        value: object = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


@dataclass
class ReportAccess:
    """The reports one user may read (answers are remembered for the life of this object: one request)."""

    db: Database
    user_id: int
    _seen: dict[tuple[frozenset[int], frozenset[int]], bool] = field(default_factory=dict)

    def allows(self, meta: Mapping[str, object]) -> bool:
        """Whether the user may read a report with metadata ``meta``."""
        backtests, papers = report_runs(meta)
        key = (frozenset(backtests), frozenset(papers))
        if key not in self._seen:
            self._seen[key] = (visible_backtests(self.db, self.user_id, backtests) == backtests
                               and visible_paper_runs(self.db, self.user_id, papers) == papers)
        return self._seen[key]

    def can_read(self, path: Path) -> bool:
        """Whether the user may read file ``path`` of the reports directory (by the ``.json`` next to it; one
        that cannot be read lets no one in)."""
        meta = _meta(path)
        return meta is not None and self.allows(meta)

    def entries(self, root: Path, entries: Iterable[E]) -> list[E]:
        """Those of the index ``entries`` of ``root`` (:func:`workbench.present.index.report_entries`) the
        user may read."""
        return [e for e in entries if self.can_read(root / str(e["html"]))]
