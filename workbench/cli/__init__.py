"""The ``workbench`` command line: parses arguments, builds Settings, calls the library.

The commands live in one module per group (:mod:`~workbench.cli.data`, :mod:`~workbench.cli.research`,
:mod:`~workbench.cli.reports`, :mod:`~workbench.cli.paper`, :mod:`~workbench.cli.admin`,
:mod:`~workbench.cli.servers`, :mod:`~workbench.cli.schema`, :mod:`~workbench.cli.catalog`); their shared
options are declared once in :mod:`~workbench.cli.options`, and a run's state is a
:class:`~workbench.cli.context.CliContext`. Here they are put together as :data:`app` (each module imported
when one of its commands is used), and :func:`main` is the entry point.
"""

from __future__ import annotations

import sys
from typing import Annotated, Final

import typer

from workbench.cli.base import App, LazyGroup
from workbench.cli.context import CliContext

__all__ = ["app", "main"]

#: the commands merged into the root, by the module holding them (in its ``app``), in ``--help`` order
COMMAND_MODULES: Final = {
    **dict.fromkeys(("sample", "import-csv", "archive", "inventory", "quality"), "workbench.cli.data"),
    "strategies": "workbench.cli.catalog",
    **dict.fromkeys(("indicators", "backtest", "sweep", "optimize", "walk-forward", "check", "rerun"),
                    "workbench.cli.research"),
    **dict.fromkeys(("report", "study", "lab"), "workbench.cli.reports"),
    **dict.fromkeys(("paper", "paper-runs", "reconcile"), "workbench.cli.paper"),
    **dict.fromkeys(("serve", "monitor"), "workbench.cli.admin"),
}
#: the command groups: ``module:attribute`` of each group's Typer
GROUP_SOURCES: Final = {
    "services": "workbench.cli.servers:app", "db": "workbench.cli.schema:app",
    "ingest": "workbench.cli.data:ingest_app",
    "secrets": "workbench.cli.admin:secrets_app", "notify": "workbench.cli.admin:notify_app",
    "users": "workbench.cli.admin:users_app", "runs": "workbench.cli.research:runs_app",
}

# a command's module is imported when the command is used (see LazyGroup)
app = App(help="Research and backtesting workbench for Bithumb KRW markets.",
          cls=LazyGroup.of(COMMAND_MODULES, GROUP_SOURCES))


@app.callback()
def _global_options(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="on failure, print the traceback too (anywhere on the "
                                                        "command line)")] = False,
    keep_services: Annotated[bool, typer.Option("--keep-services", help="leave the embedded servers this command "
                                                                        "starts running")] = False,
) -> None:
    """Research and backtesting workbench for Bithumb KRW markets."""
    cli = CliContext.of(ctx)
    cli.debug = cli.debug or debug
    cli.keep_services = cli.keep_services or keep_services


def main() -> None:
    """Entry point: failures and misuse (a bad option value, a missing argument, an unknown option) print
    one ``error:`` line (``--debug``: the traceback too) and exit 1."""
    import signal

    cli = CliContext()

    def _terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, _terminate)  # like Ctrl-C: clean up what was started, then exit
    try:
        # usage errors come here, not as a box
        code = app(standalone_mode=False, prog_name="workbench", obj=cli)
        sys.exit(code if isinstance(code, int) else 0)
    except SystemExit:
        raise
    except KeyboardInterrupt as err:
        cli.err.print(f"[red]error:[/red] interrupted{f' ({err})' if str(err) else ''}")
        sys.exit(143 if str(err) == "SIGTERM" else 130)
    except BaseException as err:
        _fail(cli, err)
    finally:
        cli.stop_started()


def _fail(cli: CliContext, err: BaseException) -> None:
    """Print ``err`` as one ``error:`` line (a group without a command: its help) and exit."""
    from workbench.cli.base import GLOBAL_FLAGS
    from workbench.cli.errors import command_path, describe_usage, usage_kind

    kind = usage_kind(err)
    if kind == "help":    # `workbench`, `workbench db`: the help, as asked (plain text: no rich)
        sys.stdout.write(err.ctx.get_help() + "\n")  # type: ignore[attr-defined]
        sys.exit(0)
    from rich.markup import escape

    from workbench.cli.errors import describe_failure
    from workbench.core.redact import mask_text
    from workbench.services.environ import secret_values

    if kind is not None:  # the command line itself is wrong (or a prompt was aborted)
        args = [a for a in sys.argv[1:] if a not in GLOBAL_FLAGS]
        text = describe_usage(err, command_path(typer.main.get_command(app), args)) if kind == "usage" else "aborted"
        cli.err.print(f"[red]error:[/red] {escape(text)}", highlight=False, soft_wrap=True)
        sys.exit(1)
    if cli.debug:
        import traceback

        cli.err.print(escape(mask_text(traceback.format_exc(), *secret_values())), highlight=False)
    cli.err.print(f"[red]error:[/red] {escape(describe_failure(err, *secret_values()))}", highlight=False,
                  soft_wrap=True)
    sys.exit(1)
