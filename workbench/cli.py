"""The ``workbench`` command line: parses arguments, builds Settings, calls the library."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from workbench.errors import WorkbenchError

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Research and backtesting workbench for Bithumb KRW markets.")
services_app = typer.Typer(no_args_is_help=True, help="Embedded PostgreSQL/Redis servers.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
ingest_app = typer.Typer(no_args_is_help=True, help="Fetch market data from Bithumb's public API.")
app.add_typer(services_app, name="services")
app.add_typer(db_app, name="db")
app.add_typer(ingest_app, name="ingest")

console = Console(stderr=True)
out = Console()


def _settings() -> Any:
    from workbench.config import Settings

    try:
        return Settings()
    except Exception as err:  # pydantic ValidationError: a malformed WORKBENCH_* value
        raise WorkbenchError(f"invalid settings: {err}") from err


def _connect(**kwargs: Any) -> Any:
    from workbench.session import connect

    return connect(_settings(), **kwargs)


def _table(df: Any, title: str | None = None) -> Table:
    t = Table(title=title)
    for c in df.columns:
        t.add_column(str(c))
    for row in df.itertuples(index=False):
        t.add_row(*[str(v) for v in row])
    return t


# ---------------------------------------------------------------- services
@services_app.command("start")
def services_start() -> None:
    """Start the embedded servers (only those whose URL is not configured)."""
    from workbench.services.resolve import resolve_urls

    urls = resolve_urls(_settings())
    out.print(f"database: {urls.database_url}{' (embedded)' if urls.embedded_postgres else ''}")
    out.print(f"redis:    {urls.redis_url}{' (embedded)' if urls.embedded_redis else ''}")


@services_app.command("stop")
def services_stop() -> None:
    """Stop the embedded servers of the data dir."""
    from workbench.services.resolve import stop_embedded

    stopped = stop_embedded(_settings())
    out.print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


@services_app.command("status")
def services_status() -> None:
    """Show which servers are used and whether the embedded ones run."""
    from workbench.services.embedded import EmbeddedPostgres, EmbeddedRedis

    s = _settings()
    out.print(f"data dir: {s.data_dir}")
    for name, configured, server in (("postgres", s.database_url, EmbeddedPostgres(s.data_dir)),
                                     ("redis", s.redis_url, EmbeddedRedis(s.data_dir))):
        if configured:
            out.print(f"{name}: configured {configured}")
        else:
            info = server.running()
            out.print(f"{name}: embedded, " + (f"running on port {info.port} (pid {info.pid})" if info
                                               else "not running"))


# ---------------------------------------------------------------- db
@db_app.command("init")
def db_init() -> None:
    """Create or upgrade the schema (idempotent)."""
    from workbench.db.migrations import migrate, migration_status

    wb = _connect(init_db=False)
    applied = migrate(wb.db)
    for m in applied:
        out.print(f"applied {m.version:04d}_{m.name}")
    st = migration_status(wb.db)
    out.print(f"schema up to date at version {max(st.applied)}"
              f" ({'TimescaleDB' if st.timescaledb else 'plain PostgreSQL: no hypertables/policies'})")


@db_app.command("status")
def db_status() -> None:
    """Applied and pending migrations."""
    from workbench.db.migrations import migration_status

    st = migration_status(_connect(init_db=False).db)
    out.print(f"applied: {list(st.applied)}\npending: {list(st.pending)}\nchanged since applied: "
              f"{list(st.changed)}\ntimescaledb: {st.timescaledb}")
    if st.pending:
        raise typer.Exit(1)


# ---------------------------------------------------------------- data
@app.command()
def sample(days: Annotated[int, typer.Option(help="days of 1m candles per symbol")] = 60) -> None:
    """Load the SYNTHETIC sample data set (reproducible; symbols KRW-SYN*)."""
    from workbench.data.sample import SAMPLE_LABEL, generate_sample_candles
    from workbench.ingest.store import store

    wb = _connect()
    frame = generate_sample_candles(days=days)
    result = store(wb.db, "candles", frame, cache=wb.cache)
    out.print(f"{SAMPLE_LABEL}\n{result}")


@app.command("import-csv")
def import_csv_cmd(
    path: Path,
    kind: Annotated[str, typer.Option(help="candles, transactions or tickers")] = "candles",
    symbol: Annotated[str | None, typer.Option(help="e.g. KRW-BTC, if the file has no symbol column")] = None,
    timeframe: Annotated[str | None, typer.Option(help="e.g. 1m, if the file has no timeframe column")] = None,
    tz: Annotated[str, typer.Option(help="time zone of naive timestamps")] = "UTC",
) -> None:
    """Import a CSV file (validated first, written in one transaction, re-runnable)."""
    from workbench.ingest.store import import_csv

    wb = _connect()
    result = import_csv(wb.db, path, kind, symbol=symbol, timeframe=timeframe, tz=tz,  # type: ignore[arg-type]
                        cache=wb.cache)
    out.print(str(result))


@app.command()
def inventory() -> None:
    """What candles are stored."""
    df = _connect().inventory()
    out.print(_table(df, "stored candles") if len(df) else "no candles stored")


@app.command()
def quality(
    symbol: str,
    timeframe: Annotated[str, typer.Option()] = "1m",
    start: Annotated[str | None, typer.Option()] = None,
    end: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Data quality report of stored candles (gaps, duplicates, zero volume, jumps)."""
    report = _connect().quality(symbol, timeframe, start, end)
    out.print(str(report))
    for name in ("gaps", "zero_volume_runs", "price_jumps", "bad_bars"):
        table = getattr(report, name)
        if len(table):
            out.print(_table(table.head(10).astype(str), f"{name} (first 10 of {len(table)})"))


def main() -> None:
    try:
        app()
    except WorkbenchError as err:
        console.print(f"[red]error:[/red] {err}")
        sys.exit(1)
