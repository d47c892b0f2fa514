"""Report commands: ``report`` (a parameterized notebook to HTML) and ``study`` (the default study, end to
end)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workbench.cli.base import App, checked
from workbench.cli.context import CliContext
from workbench.cli.options import TimeframeOpt
from workbench.cli.params import parse_report_params
from workbench.core import checks
from workbench.errors import WorkbenchError

#: the commands, merged into the root
app = App()


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def report(
    ctx: typer.Context,
    notebook: Annotated[str, typer.Argument(help="notebook name (e.g. strategy_backtest; your own: "
                                                 "WORKBENCH_NOTEBOOKS_DIR), not a path")],
    output_dir: Annotated[Path | None, typer.Option(help="default: settings' reports dir")] = None,
    show_code: Annotated[bool, typer.Option(help="keep code cells in the HTML")] = False,
) -> None:
    """Run a parameterized notebook with papermill and write self-contained HTML into reports/.

    Parameters as papermill takes them: -p NAME VALUE (repeatable); -p NAME=VALUE works too.
    """
    from workbench.app.notify.events import report_finished
    from workbench.app.report import run_report

    cli = CliContext.of(ctx)
    settings = cli.settings()
    path = run_report(notebook, parse_report_params(ctx.args), output_dir=output_dir or settings.reports_dir,
                      hide_code=not show_code, notebooks_dir=settings.notebooks_dir)
    cli.out.print(str(path))
    cli.out.print(f"index of all reports: {path.parent / 'index.html'}")
    try:
        report_finished(cli.connect(), path)
    except WorkbenchError as err:   # the report stands; only its notification is lost
        cli.err.print(f"notification not sent: {err}")


@app.command()
def study(ctx: typer.Context, timeframe: TimeframeOpt = "1h") -> None:
    """The default study, end to end: sample data, indicators, every built-in strategy, HTML reports
    (the embedded servers it started are stopped at the end; --keep-services leaves them running)."""
    from workbench.app.study import run_study

    cli = CliContext.of(ctx)

    def log(text: str) -> None:   # whole lines, however narrow the terminal or pipe (never wrapped at 80)
        cli.out.print(text, soft_wrap=True, highlight=False)

    result = run_study(cli.settings(), timeframe=timeframe, keep_services=cli.keep_services, log=log)
    cli.out.print(result.verdict, soft_wrap=True)
    for name, path in result.reports.items():
        cli.out.print(f"report ({name}): {path.resolve()}", soft_wrap=True, highlight=False)
    if result.reports:
        cli.out.print(f"index of all reports: {next(iter(result.reports.values())).resolve().parent / 'index.html'}",
                      soft_wrap=True, highlight=False)


@app.command()
def lab(ctx: typer.Context,
        port: Annotated[int | None, typer.Option(help="JupyterLab's port (default 8888, or a free one)",
                                                 callback=checked(checks.PORT, "--port"))] = None,
        no_browser: Annotated[bool, typer.Option("--no-browser", help="do not open a browser")] = False) -> None:
    """JupyterLab in notebooks/ with a "workbench" kernel, on the configured servers (or the embedded ones)."""
    from workbench.app.lab import run_lab

    cli = CliContext.of(ctx)
    raise typer.Exit(run_lab(cli.settings(), port=port, open_browser=not no_browser,
                             log=lambda text: cli.out.print(text, soft_wrap=True, highlight=False)))
