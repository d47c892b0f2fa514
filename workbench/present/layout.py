"""Which columns of a table fit a width, without breaking a word or a number: pure, no heavy imports.

A column's *minimum* width is what it needs so that nothing is broken: the whole cell for numbers (and
times), the longest word for text (text wraps between words). Columns are kept in order of priority
until their minimum widths and the table's borders (``3 x columns + 1`` characters, rich's box with one
space of padding on each side) no longer fit; the others are dropped and named, so the caller can say
which ones ``--wide`` would show.

>>> cols = [TableColumn("id", "id", ("1", "12"), numeric=True, priority=9),
...         TableColumn("strategy", "strategy", ("EmaCross",), priority=8),
...         TableColumn("note", "note", ("a long remark",), priority=1)]
>>> fit_columns(cols, 30)
(['id', 'strategy', 'note'], [])
>>> fit_columns(cols, 20)
(['id', 'strategy'], ['note'])
>>> fit_columns(cols, 20, wide=True)
(['id', 'strategy', 'note'], [])
>>> column_widths(cols, 28)   # "note" (13 wide) wraps between its words in 8; nothing else wraps
[2, 8, 8]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["TableColumn", "column_widths", "fit_columns", "table_width"]


@dataclass(frozen=True)
class TableColumn:
    """One column for people: ``cells`` already formatted; ``numeric`` cells never wrap; higher
    ``priority`` is dropped later."""

    name: str
    header: str
    cells: tuple[str, ...]
    numeric: bool = False
    priority: int = 0

    @property
    def natural(self) -> int:
        """Width without any wrapping."""
        return max([len(self.header), *map(len, self.cells)])

    @property
    def minimum(self) -> int:
        """Width below which a number or a word would be broken."""
        header = max((len(w) for w in self.header.split()), default=0)
        if self.numeric:
            return max([header, *map(len, self.cells)])
        return max([header, *(len(w) for cell in self.cells for w in cell.split())])


def table_width(widths: Sequence[int]) -> int:
    """Characters a table with these column widths takes, borders and padding included."""
    return sum(widths) + 3 * len(widths) + 1


def fit_columns(columns: Sequence[TableColumn], width: int | None, *,
                wide: bool = False) -> tuple[list[str], list[str]]:
    """``(kept, dropped)`` column names (each in table order): every column when ``wide`` or ``width`` is
    None, else the highest-priority ones (ties: the leftmost) whose minimum widths fit ``width``; at least
    one column is always kept."""
    if wide or width is None:
        return [c.name for c in columns], []
    ranked = sorted(range(len(columns)), key=lambda i: (-columns[i].priority, i))
    kept: set[int] = set()
    for i in ranked:
        trial = kept | {i}
        if not kept or table_width([columns[j].minimum for j in trial]) <= width:
            kept = trial
    return ([c.name for i, c in enumerate(columns) if i in kept],
            [c.name for i, c in enumerate(columns) if i not in kept])


def column_widths(columns: Sequence[TableColumn], width: int | None) -> list[int]:
    """Widths of ``columns`` within ``width`` (None: each its natural width): every column gets its
    minimum, then the room left widens columns to their natural width, those needing least first, and
    what remains goes to the first column still wrapping."""
    natural = [c.natural for c in columns]
    if width is None or table_width(natural) <= width:
        return natural
    widths = [c.minimum for c in columns]
    room = width - table_width(widths)
    for i in sorted(range(len(columns)), key=lambda i: natural[i] - widths[i]):
        grow = min(room, natural[i] - widths[i])
        widths[i] += grow
        room -= grow
    return widths
