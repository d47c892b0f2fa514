"""Market data commands: ``sample``, ``import-csv``, ``archive``, ``inventory``, ``quality`` and the ``ingest``
group (Bithumb's public API)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from workbench.cli.base import App, checked
from workbench.cli.context import CliContext
from workbench.cli.options import EndOpt, StartOpt, TimeframeOpt, WideOpt
from workbench.cli.tables import frame_table
from workbench.core import checks

if TYPE_CHECKING:
    from collections.abc import Iterator

#: the commands, merged into the root: ``workbench sample`` ...
app = App()
ingest_app = App(help="Fetch market data from Bithumb's public API.")


@app.command()
def sample(ctx: typer.Context,
           days: Annotated[int, typer.Option(help="days of 1m candles per symbol",
                                             callback=checked(checks.SAMPLE_DAYS, "--days"))] = 60) -> None:
    """Load the SYNTHETIC sample data set (reproducible; symbols KRW-SYN*)."""
    from workbench.ingest.sample import SAMPLE_LABEL, generate_sample_candles
    from workbench.store.writer import write_frame

    cli = CliContext.of(ctx)
    wb = cli.connect(need_redis=False)
    frame = generate_sample_candles(days=days)
    result = write_frame(wb.db, "candles", frame, cache=wb.cache)
    cli.out.print(f"{SAMPLE_LABEL}\n{result}")


@app.command("import-csv")
def import_csv_cmd(
    ctx: typer.Context,
    path: Path,
    kind: Annotated[str, typer.Option(help="candles, transactions or tickers")] = "candles",
    symbol: Annotated[str | None, typer.Option(help="e.g. KRW-BTC, if the file has no symbol column")] = None,
    timeframe: Annotated[str | None, typer.Option(help="e.g. 1m, if the file has no timeframe column")] = None,
    tz: Annotated[str, typer.Option(help="time zone of naive timestamps")] = "UTC",
    dayfirst: Annotated[bool | None, typer.Option("--dayfirst/--monthfirst",
                                                  help="order of D/M/Y vs M/D/Y dates")] = None,
    skip_bad_rows: Annotated[bool, typer.Option(help="write the good rows, list bad ones in FILE.rejects.csv")] = False,
) -> None:
    """Import a CSV file (every row validated, streamed, written in one transaction, re-runnable)."""
    from tqdm.auto import tqdm

    from workbench.ingest.importer import import_csv

    cli = CliContext.of(ctx)
    wb = cli.connect(need_redis=False)
    with tqdm(desc=f"importing {path.name}", unit=" rows", unit_scale=True, leave=False) as bar:
        result = import_csv(wb.db, path, kind, symbol=symbol, timeframe=timeframe, tz=tz,  # type: ignore[arg-type]
                            dayfirst=dayfirst, on_error="skip" if skip_bad_rows else "abort", cache=wb.cache,
                            progress=lambda rows: bar.update(rows - bar.n))
    cli.out.print(str(result))


@app.command()
def archive(
    ctx: typer.Context,
    before: Annotated[str | None, typer.Option(help="archive rows older than this UTC time "
                                                    "(default: the 30-day retention horizon)")] = None,
    retention: Annotated[bool | None, typer.Option(
        "--retention/--no-retention",
        help="delete archived rows older than 30 days (default: on plain PostgreSQL; TimescaleDB's job does it)",
    )] = None,
    verify: Annotated[bool, typer.Option("--verify", help="check every archive file against its record "
                                                          "(archive nothing); exit 1 if any is bad")] = False,
    adopt: Annotated[bool, typer.Option("--adopt", help="record the unrecorded files that fit their place "
                                                        "(archives written before this check existed)")] = False,
) -> None:
    """Archive market history to Parquet before retention drops it (idempotent; re-run to resume)."""
    from tqdm import tqdm

    cli = CliContext.of(ctx)
    if verify or adopt:
        from workbench.errors import ValidationError

        if before is not None or retention is not None or (verify and adopt):
            raise ValidationError("archive --verify and --adopt take no other option: they archive nothing")
        if adopt:
            adopted = cli.connect(need_redis=False).adopt_archive()
            typer.echo("\n".join([f"adopted {len(adopted):,} unrecorded archive files", *adopted]))
            return
        checked_files = cli.connect(need_redis=False).verify_archive()
        typer.echo(str(checked_files))
        if not checked_files.ok:
            raise typer.Exit(1)
        return

    def bar(months: Iterator[Any], table: str, total: int) -> Iterator[Any]:
        return iter(tqdm(months, total=total, desc=table, unit="month", disable=total == 0, file=sys.stderr))

    report, deleted = cli.connect().archive_history(before, retention=retention, progress=bar)
    cli.out.print(str(report))
    if deleted is not None:
        cli.out.print(str(deleted))


@app.command()
def inventory(ctx: typer.Context) -> None:
    """What candles are stored."""
    cli = CliContext.of(ctx)
    df = cli.connect(need_redis=False).inventory()
    if len(df):
        cli.show(frame_table(df, "stored candles"), wide_option=False)
    else:
        cli.out.print("no candles stored")


@app.command()
def quality(ctx: typer.Context, symbol: str, timeframe: TimeframeOpt = "1m", start: StartOpt = None,
            end: EndOpt = None, wide: WideOpt = False) -> None:
    """Data quality report of stored candles (gaps, duplicates, zero volume, jumps)."""
    cli = CliContext.of(ctx)
    report = cli.connect().quality(symbol, timeframe, start, end)
    cli.out.print(str(report))
    for name in ("gaps", "zero_volume_runs", "price_jumps", "bad_bars"):
        table = getattr(report, name)
        if len(table):
            cli.show(frame_table(table.head(10), f"{name} (first 10 of {len(table)})"), wide)


# ---------------------------------------------------------------- ingest
ApiOpt = Annotated[str, typer.Option(help="v1 or legacy")]


@ingest_app.command("candles")
def ingest_candles_cmd(
    ctx: typer.Context,
    symbol: str,
    timeframe: TimeframeOpt = "1m",
    api: ApiOpt = "v1",
    count: Annotated[int, typer.Option(help="candles per request (v1: 1-200)",
                                       callback=checked(checks.COUNT, "--count"))] = 200,
    pages: Annotated[int, typer.Option(help="v1: requests walking back in time",
                                       callback=checked(checks.PAGES, "--pages"))] = 1,
) -> None:
    """Fetch candles from Bithumb and upsert them."""
    from workbench.app.notify.events import check_after_ingest
    from workbench.ingest.service import ingest_candles

    cli = CliContext.of(ctx)
    wb = cli.connect(need_redis=False)
    with cli.client() as client:
        result = ingest_candles(wb.db, client, symbol, timeframe, api=api, count=count,  # type: ignore[arg-type]
                                pages=pages, cache=wb.cache, progress=True)
    cli.out.print(str(result))
    check_after_ingest(wb, symbol, timeframe, result.rows)


@ingest_app.command("tickers")
def ingest_tickers_cmd(
    ctx: typer.Context,
    symbols: Annotated[str | None, typer.Argument(help="comma-separated; omit for all KRW markets")] = None,
    api: ApiOpt = "v1",
) -> None:
    """Snapshot tickers into the tickers table (and the 1 s Redis cache)."""
    from workbench.ingest.service import ingest_tickers

    cli = CliContext.of(ctx)
    wb = cli.connect()
    with cli.client() as client:
        result = ingest_tickers(wb.db, client, symbols.split(",") if symbols else None, api=api,  # type: ignore[arg-type]
                                cache=wb.cache)
    cli.out.print(str(result))


@ingest_app.command("orderbooks")
def ingest_orderbooks_cmd(ctx: typer.Context, symbols: Annotated[str, typer.Argument(help="comma-separated")],
                          api: ApiOpt = "v1") -> None:
    """Snapshot order books into the orderbooks table (and the 1 s Redis cache)."""
    from workbench.ingest.service import ingest_orderbooks

    cli = CliContext.of(ctx)
    wb = cli.connect()
    with cli.client() as client:
        result = ingest_orderbooks(wb.db, client, symbols.split(","), api=api, cache=wb.cache)  # type: ignore[arg-type]
    cli.out.print(str(result))


@ingest_app.command("trades")
def ingest_trades_cmd(
    ctx: typer.Context,
    symbol: str,
    api: ApiOpt = "v1",
    count: Annotated[int, typer.Option(callback=checked(checks.COUNT, "--count"))] = 100,
) -> None:
    """Fetch recent trades into the transactions table (re-runs add no duplicates)."""
    from workbench.ingest.service import ingest_trades

    cli = CliContext.of(ctx)
    wb = cli.connect(need_redis=False)
    with cli.client() as client:
        result = ingest_trades(wb.db, client, symbol, api=api, count=count)  # type: ignore[arg-type]
    cli.out.print(str(result))
