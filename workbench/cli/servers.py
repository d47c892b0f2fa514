"""``workbench services``: the embedded PostgreSQL and Redis servers."""

from __future__ import annotations

from typing import Annotated

import typer

from workbench.cli.base import App
from workbench.cli.context import CliContext

app = App(help="Embedded PostgreSQL/Redis servers.")


@app.command("start")
def services_start(ctx: typer.Context) -> None:
    """Start the embedded servers (only those whose URL is not configured)."""
    from workbench.core.redact import mask_url
    from workbench.services.resolve import resolve_urls

    cli = CliContext.of(ctx)
    cli.keep_services = True   # what it started stays up: that is what it is for
    urls = resolve_urls(cli.settings())
    cli.out.print(f"database: {mask_url(urls.database_url)}{' (embedded)' if urls.embedded_postgres else ''}")
    cli.out.print(f"redis:    {mask_url(urls.redis_url or 'none')}{' (embedded)' if urls.embedded_redis else ''}")


@app.command("stop")
def services_stop(
    ctx: typer.Context,
    force: Annotated[bool, typer.Option(help="stop even while other processes use them")] = False,
) -> None:
    """Stop the embedded servers of the data dir (those no other process is using, unless --force)."""
    from workbench.services.resolve import in_use, stop_embedded

    cli = CliContext.of(ctx)
    settings = cli.settings()
    stopped = stop_embedded(settings, force=force)
    cli.out.print("stopped: " + (", ".join(stopped) if stopped else "nothing"))
    for name in ("redis", "postgres"):
        users = in_use(settings, name)
        if users and name not in stopped:
            cli.out.print(f"{name} left running: in use by pid {', '.join(map(str, users))} (--force stops it)")


@app.command("status")
def services_status(ctx: typer.Context) -> None:
    """Show which servers are used and whether the embedded ones run."""
    from workbench.core.redact import mask_url
    from workbench.services.embedded import EmbeddedPostgres, EmbeddedRedis

    cli = CliContext.of(ctx)
    s = cli.settings()
    cli.out.print(f"data dir: {s.data_dir}")
    for name, configured, server in (("postgres", s.database_url, EmbeddedPostgres(s.data_dir)),
                                     ("redis", s.redis_url, EmbeddedRedis(s.data_dir))):
        if configured:
            cli.out.print(f"{name}: configured {mask_url(configured)}")
        else:
            info = server.running()
            cli.out.print(f"{name}: embedded, " + (f"running on port {info.port} (pid {info.pid})" if info
                                                   else "not running"))
