"""The CLI's two consoles (stdout and stderr), created on first use so ``workbench --help`` loads no rich."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["LazyConsole", "new_table"]


class LazyConsole:
    """A :class:`rich.console.Console` built on first attribute access (reads and writes forwarded)."""

    def __init__(self, **options: Any) -> None:
        object.__setattr__(self, "_options", options)
        object.__setattr__(self, "_console", None)

    def _get(self) -> Console:
        console = object.__getattribute__(self, "_console")
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
