"""What one run of the command line holds: the global flags, its settings, its consoles, its connections and
the embedded servers to stop when it ends. One :class:`CliContext` per run, held in typer's context
(``ctx.obj``): :func:`workbench.cli.main` makes it, and a command reads it with :meth:`CliContext.of`.
Tests hand their own to ``CliRunner.invoke(app, args, obj=CliContext(connector=...))``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import typer

from workbench.cli.console import LazyConsole
from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.app.session import Workbench
    from workbench.cli.console import CliTable
    from workbench.ingest.bithumb import BithumbClient
    from workbench.services.config import Settings

__all__ = ["CliContext"]


def _settings() -> Settings:
    from workbench.services.config import Settings

    try:
        return Settings()
    except Exception as err:  # pydantic ValidationError: a malformed WORKBENCH_* value
        errors = getattr(err, "errors", None)
        text = ("; ".join(f"WORKBENCH_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in errors())
                if callable(errors) else " ".join(str(err).split()))
        raise WorkbenchError(f"invalid settings: {text}") from err


@dataclass
class CliContext:
    """One run of the command line.

    ``connector`` and ``client_factory`` replace connecting to the servers and to Bithumb (tests: an
    already connected workbench, an unreachable exchange); ``debug`` and ``keep_services`` are the global
    flags (``services start`` sets ``keep_services`` too).
    """

    debug: bool = False
    keep_services: bool = False
    connector: Callable[..., Workbench] | None = None
    client_factory: Callable[[], BithumbClient] | None = None
    out: LazyConsole = field(default_factory=LazyConsole)
    err: LazyConsole = field(default_factory=lambda: LazyConsole(stderr=True))
    #: connections to embedded servers this run started (or was handed): stopped when it ends
    started: list[tuple[Settings, Workbench]] = field(default_factory=list)
    _settings: Settings | None = field(default=None, init=False, repr=False)

    @staticmethod
    def of(ctx: typer.Context) -> CliContext:
        """The run's context (made on first use when a caller gave none)."""
        found = ctx.find_object(CliContext)
        return found if found is not None else ctx.ensure_object(CliContext)

    def settings(self) -> Settings:
        """The settings (``WORKBENCH_*``), read once; a malformed value is a one-line WorkbenchError."""
        if self._settings is None:
            self._settings = _settings()
        return self._settings

    def connect(self, **options: Any) -> Workbench:
        """A connected workbench (:func:`workbench.app.session.connect` with ``options``); the embedded servers
        it uses are stopped when the run ends (see :meth:`stop_started`)."""
        if self.connector is not None:
            return self.connector(**options)
        from workbench.app.session import connect

        settings = self.settings()
        wb = connect(settings, **options)
        if wb.urls.embedded_in_use:
            self.started.append((settings, wb))
        return wb

    def client(self) -> BithumbClient:
        """A client of Bithumb's public API (``WORKBENCH_BITHUMB_BASE_URL``)."""
        if self.client_factory is not None:
            return self.client_factory()
        from workbench.ingest.bithumb import BithumbClient

        return BithumbClient(base_url=self.settings().bithumb_base_url)

    def stop_started(self) -> None:
        """Close this run's connections and stop the embedded servers it started, unless ``keep_services``
        or another process still uses them."""
        if not self.started:
            return
        from workbench.services.resolve import finish_embedded, in_use

        while self.started:
            settings, wb = self.started.pop()
            wb.close()
            if self.keep_services:
                continue
            finish_embedded(settings, wb.urls)
            for name in wb.urls.started:
                users = in_use(settings, name)
                if users:
                    self.err.print(f"embedded {name} left running: in use by pid {', '.join(map(str, users))}")

    def width(self) -> int | None:
        """Characters a table may take: the terminal's; piped or captured output: ``COLUMNS`` if set, else no
        limit (a script reading the output gets every column, nothing wrapped)."""
        if self.out.is_terminal:
            return int(self.out.width)
        from workbench.services.environ import output_columns

        return output_columns()

    def show(self, table: CliTable, wide: bool = False, *, wide_option: bool = True) -> None:
        """Print ``table`` within :meth:`width`: columns that do not fit are named below it, never broken."""
        from workbench.cli.console import print_table

        print_table(self.out, table, width=self.width(), wide=wide, wide_option=wide_option)
