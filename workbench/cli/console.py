"""The CLI's two consoles (stdout and stderr), created on first use so ``workbench --help`` loads no rich, and
its tables, laid out by :mod:`workbench.present.layout`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.present.layout import TableColumn, column_widths, fit_columns, table_width

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["CliTable", "LazyConsole", "new_table", "print_table"]


class LazyConsole:
    """A :class:`rich.console.Console` built on first attribute access (reads and writes forwarded)."""

    def __init__(self, **options: Any) -> None:
        object.__setattr__(self, "_options", options)
        object.__setattr__(self, "_console", None)

    def _get(self) -> Console:
        console: Console | None = object.__getattribute__(self, "_console")
        if console is None:
            from rich.console import Console

            console = Console(**object.__getattribute__(self, "_options"))
            object.__setattr__(self, "_console", console)
        return console

    def __getattr__(self, name: str) -> Any:
        return getattr(self._get(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._get(), name, value)


def new_table(**options: Any) -> Any:
    """A :class:`rich.table.Table` (rich imported here, on use)."""
    from rich.table import Table

    return Table(**options)


@dataclass(frozen=True)
class CliTable:
    """A table for the terminal: a title and formatted columns (see :mod:`workbench.present.layout`)."""

    title: str | None
    columns: tuple[TableColumn, ...]

    @property
    def rows(self) -> int:
        return len(self.columns[0].cells) if self.columns else 0


def print_table(console: Any, table: CliTable, *, width: int | None, wide: bool = False,
                wide_option: bool = True) -> None:
    """Print ``table`` within ``width`` characters (None: as wide as it needs) without breaking a word or a
    number: the columns that do not fit are left out (highest priority kept) and named below the table;
    ``wide`` shows them all."""
    from rich import box
    from rich.table import Table

    kept, dropped = fit_columns(table.columns, width, wide=wide)
    columns = [c for c in table.columns if c.name in kept]
    widths = column_widths(columns, None if wide else width)
    t = Table(title=table.title, box=box.HEAVY_HEAD)
    for c, w in zip(columns, widths, strict=True):
        t.add_column(c.header, justify="right" if c.numeric else "left", no_wrap=c.numeric, overflow="fold",
                     width=w)
    for r in range(table.rows):
        t.add_row(*(c.cells[r] for c in columns))
    render = table_width(widths)
    if render > console.width:  # rich caps a print's width at the console's (80 when piped)
        console.width = render
    console.print(t, width=render)
    if dropped:
        headers = ", ".join(c.header for c in table.columns if c.name in dropped)
        hint = "--wide shows every column" if wide_option else "a wider terminal shows them"
        console.print(f"not shown for lack of width: {headers} ({hint})", highlight=False,
                      width=width or render)
