"""The ``workbench`` command line: parses arguments, builds Settings, calls the library."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from workbench.cli.console import LazyConsole
from workbench.core import checks
from workbench.errors import WorkbenchError
from workbench.present.formatting import metric_title

# rich_markup_mode=None: help in click's plain layout (typer's rich help imports rich and markdown on every
# `--help`)
app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None,
                  help="Research and backtesting workbench for Bithumb KRW markets.")
services_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Embedded PostgreSQL/Redis servers.")
db_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Database schema.")
ingest_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                         help="Fetch market data from Bithumb's public API.")
app.add_typer(services_app, name="services")
app.add_typer(db_app, name="db")
app.add_typer(ingest_app, name="ingest")
secrets_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Bithumb API keys, encrypted at rest.")
app.add_typer(secrets_app, name="secrets")
notify_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                         help="Notifications (Telegram, email) of runs and alarms.")
app.add_typer(notify_app, name="notify")
users_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                        help="Users: owners of runs, who log in to the portal.")
app.add_typer(users_app, name="users")
runs_app = typer.Typer(invoke_without_command=True, rich_markup_mode=None,
                       help="Stored backtest runs (yours and shared).")
app.add_typer(runs_app, name="runs")

console = LazyConsole(stderr=True)
out = LazyConsole()


def _checked(bound: checks.Bound, option: str) -> Any:
    """An option callback: the value checked against ``bound`` (see workbench.core.checks) before the command runs."""
    return lambda value: value if value is None else bound.check(value, option)


def _settings() -> Any:
    from workbench.services.config import Settings

    try:
        return Settings()
    except Exception as err:  # pydantic ValidationError: a malformed WORKBENCH_* value
        errors = getattr(err, "errors", None)
        text = ("; ".join(f"WORKBENCH_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in errors())
                if callable(errors) else " ".join(str(err).split()))
        raise WorkbenchError(f"invalid settings: {text}") from err


#: connections of this command to embedded servers: those it started (or was handed) are stopped when it
#: ends (unless --keep-services or another process still uses them)
_started: list[Any] = []


def _connect(**kwargs: Any) -> Any:
    from workbench.app.session import connect

    settings = _settings()
    wb = connect(settings, **kwargs)
    if wb.urls.embedded_in_use:
        _started.append((settings, wb))
    return wb


def _stop_started(keep: bool) -> None:
    """Stop the embedded servers this command started, unless kept or used by another process."""
    if not _started:
        return
    from workbench.services.resolve import finish_embedded, in_use

    while _started:
        settings, wb = _started.pop()
        wb.close()
        if keep:
            continue
        finish_embedded(settings, wb.urls)
        for name in wb.urls.started:
            users = in_use(settings, name)
            if users:
                console.print(f"embedded {name} left running: in use by pid {', '.join(map(str, users))}")


def _width() -> int | None:
    """Characters a table may take: the terminal's; piped or captured output: ``COLUMNS`` if set, else
    no limit (a script reading the output gets every column, nothing wrapped)."""
    import os

    if out.is_terminal:
        return int(out.width)
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else None


WideOpt = Annotated[bool, typer.Option("--wide", help="show every column, however wide the table gets")]


def _show(table: Any, wide: bool = False, *, wide_option: bool = True) -> None:
    """Print a table built by :func:`_table` within the width (see :func:`_width`): columns that do not fit
    are named below it, never broken."""
    from workbench.cli.console import print_table

    print_table(out, table, width=_width(), wide=wide, wide_option=wide_option)


def _params_text(params: Any) -> str:
    """``{"fast": 5, "slow": 13}`` -> ``fast=5 slow=13``."""
    from workbench.present.formatting import format_params

    return format_params(params)


def _period(start: Any, end: Any) -> str:
    """``2025-01-01→03-01`` in KST (the end's year only when it differs)."""
    from workbench.present.formatting import KST

    start, end = start.astimezone(KST), end.astimezone(KST)
    return f"{start:%Y-%m-%d}→{end:{'%m-%d' if start.year == end.year else '%Y-%m-%d'}}"


def _cell(column: str, value: Any) -> str:
    """One table cell for people (see :func:`workbench.present.formatting.format_cell`)."""
    from workbench.present.formatting import format_cell

    return format_cell(column, value)


def _rows_table(title: str | None, names: list[str], rows: list[list[Any]], headers: dict[str, str] | None = None,
                priority: dict[str, int] | None = None, numeric: set[str] | frozenset[str] = frozenset()) -> Any:
    """A table of ``rows`` (values in the order of ``names``), cells formatted by :func:`_cell`;
    ``headers`` renames columns, ``priority`` (default 0; higher stays longer when space is short)."""
    from workbench.cli.console import CliTable
    from workbench.present.formatting import metric_unit
    from workbench.present.layout import TableColumn

    heads, ranks = headers or {}, priority or {}
    columns = []
    for i, name in enumerate(names):
        values = [row[i] for row in rows]
        is_number = name in numeric or metric_unit(name) is not None or any(
            isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        columns.append(TableColumn(name, heads.get(name, name), tuple(_cell(name, v) for v in values),
                                   numeric=is_number, priority=ranks.get(name, 0)))
    return CliTable(title, tuple(columns))


def _table(df: Any, title: str | None = None, headers: dict[str, str] | None = None,
           priority: dict[str, int] | None = None) -> Any:
    """:func:`_rows_table` of a DataFrame's columns (times, numbers and their units from the dtypes)."""
    names = [str(c) for c in df.columns]
    typed = {str(c) for c in df.columns if df[c].dtype.kind in "ifuM"}
    rows = [list(r) for r in zip(*(df[c].tolist() for c in df.columns), strict=True)] if len(df.columns) else []
    return _rows_table(title, names, rows, headers, priority, typed)


#: short headers for the metric columns of the wide tables
_SHORT_HEADERS = {"total_return": "return", "sharpe_ratio": "Sharpe", "max_drawdown": "max DD",
                  "total_trades": "trades", "backtest_id": "id"}


def _metrics_table(result: Any, title: str) -> Any:
    """A backtest's metrics as ``metric | value`` rows, formatted by unit, with its symbols and period."""
    import pandas as pd

    metrics = result.metrics.to_dict()
    rows = [("symbols", ", ".join(result.symbols)), ("timeframe", result.timeframe),
            ("period", f"{_cell('start', result.start)} → {_cell('end', result.end)}"),
            ("benchmark", result.config.benchmark),
            *((metric_title(k), _cell(k, v)) for k, v in metrics.items())]
    return _table(pd.DataFrame(rows, columns=["metric", "value"]), title)


def _fold_headers(metric: str) -> dict[str, str]:
    return {**_SHORT_HEADERS, f"is_{metric}": f"is {metric_title(metric)}",
            f"oos_{metric}": f"oos {metric_title(metric)}", "oos_total_return": "oos return",
            "oos_max_drawdown": "oos max DD", "oos_total_trades": "oos trades"}


# ---------------------------------------------------------------- services
@services_app.command("start")
def services_start() -> None:
    """Start the embedded servers (only those whose URL is not configured)."""
    from workbench.core.redact import mask_url
    from workbench.services.resolve import resolve_urls

    urls = resolve_urls(_settings())
    out.print(f"database: {mask_url(urls.database_url)}{' (embedded)' if urls.embedded_postgres else ''}")
    out.print(f"redis:    {mask_url(urls.redis_url or 'none')}{' (embedded)' if urls.embedded_redis else ''}")


@services_app.command("stop")
def services_stop(
    force: Annotated[bool, typer.Option(help="stop even while other processes use them")] = False,
) -> None:
    """Stop the embedded servers of the data dir (those no other process is using, unless --force)."""
    from workbench.services.resolve import in_use, stop_embedded

    settings = _settings()
    stopped = stop_embedded(settings, force=force)
    out.print("stopped: " + (", ".join(stopped) if stopped else "nothing"))
    for name in ("redis", "postgres"):
        users = in_use(settings, name)
        if users and name not in stopped:
            out.print(f"{name} left running: in use by pid {', '.join(map(str, users))} (--force stops it)")


@services_app.command("status")
def services_status() -> None:
    """Show which servers are used and whether the embedded ones run."""
    from workbench.services.embedded import EmbeddedPostgres, EmbeddedRedis

    s = _settings()
    out.print(f"data dir: {s.data_dir}")
    for name, configured, server in (("postgres", s.database_url, EmbeddedPostgres(s.data_dir)),
                                     ("redis", s.redis_url, EmbeddedRedis(s.data_dir))):
        if configured:
            from workbench.core.redact import mask_url

            out.print(f"{name}: configured {mask_url(configured)}")
        else:
            info = server.running()
            out.print(f"{name}: embedded, " + (f"running on port {info.port} (pid {info.pid})" if info
                                               else "not running"))


# ---------------------------------------------------------------- db
@db_app.command("init")
def db_init() -> None:
    """Create or upgrade the schema (idempotent)."""
    from workbench.store.migrations import migrate, migration_status

    wb = _connect(init_db=False, need_redis=False, cache_enabled=False)  # no cache secret before the schema
    applied = migrate(wb.db)
    for m in applied:
        out.print(f"applied {m.version:04d}_{m.name}")
    st = migration_status(wb.db)
    out.print(f"schema up to date at version {max(st.applied)}"
              f" ({'TimescaleDB' if st.timescaledb else 'plain PostgreSQL: no hypertables/policies'})")


@db_app.command("status")
def db_status() -> None:
    """Applied and pending migrations."""
    from workbench.store.migrations import migration_status

    st = migration_status(_connect(init_db=False, need_redis=False, cache_enabled=False).db)
    out.print(f"applied: {list(st.applied)}\npending: {list(st.pending)}\nchanged since applied: "
              f"{list(st.changed)}\ntimescaledb: {st.timescaledb}")
    if st.pending:
        raise typer.Exit(1)


# ---------------------------------------------------------------- data
@app.command()
def sample(days: Annotated[int, typer.Option(help="days of 1m candles per symbol",
                                             callback=_checked(checks.SAMPLE_DAYS, "--days"))] = 60) -> None:
    """Load the SYNTHETIC sample data set (reproducible; symbols KRW-SYN*)."""
    from workbench.ingest.sample import SAMPLE_LABEL, generate_sample_candles
    from workbench.store.writer import write_frame

    wb = _connect(need_redis=False)
    frame = generate_sample_candles(days=days)
    result = write_frame(wb.db, "candles", frame, cache=wb.cache)
    out.print(f"{SAMPLE_LABEL}\n{result}")


@app.command("import-csv")
def import_csv_cmd(
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

    wb = _connect(need_redis=False)
    with tqdm(desc=f"importing {path.name}", unit=" rows", unit_scale=True, leave=False) as bar:
        result = import_csv(wb.db, path, kind, symbol=symbol, timeframe=timeframe, tz=tz,  # type: ignore[arg-type]
                            dayfirst=dayfirst, on_error="skip" if skip_bad_rows else "abort", cache=wb.cache,
                            progress=lambda rows: bar.update(rows - bar.n))
    out.print(str(result))


@app.command()
def archive(
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
    from collections.abc import Iterator

    from tqdm import tqdm

    if verify or adopt:
        from workbench.errors import ValidationError

        if before is not None or retention is not None or (verify and adopt):
            raise ValidationError("archive --verify and --adopt take no other option: they archive nothing")
        if adopt:
            adopted = _connect(need_redis=False).adopt_archive()
            typer.echo("\n".join([f"adopted {len(adopted):,} unrecorded archive files", *adopted]))
            return
        checked = _connect(need_redis=False).verify_archive()
        typer.echo(str(checked))
        if not checked.ok:
            raise typer.Exit(1)
        return

    def bar(months: Iterator[Any], table: str, total: int) -> Iterator[Any]:
        return iter(tqdm(months, total=total, desc=table, unit="month", disable=total == 0, file=sys.stderr))

    wb = _connect()
    report, deleted = wb.archive_history(before, retention=retention, progress=bar)
    out.print(str(report))
    if deleted is not None:
        out.print(str(deleted))


@app.command()
def inventory() -> None:
    """What candles are stored."""
    df = _connect(need_redis=False).inventory()
    if len(df):
        _show(_table(df, "stored candles"), wide_option=False)
    else:
        out.print("no candles stored")


@app.command()
def quality(
    symbol: str,
    timeframe: Annotated[str, typer.Option()] = "1m",
    start: Annotated[str | None, typer.Option()] = None,
    end: Annotated[str | None, typer.Option()] = None,
    wide: WideOpt = False,
) -> None:
    """Data quality report of stored candles (gaps, duplicates, zero volume, jumps)."""
    report = _connect().quality(symbol, timeframe, start, end)
    out.print(str(report))
    for name in ("gaps", "zero_volume_runs", "price_jumps", "bad_bars"):
        table = getattr(report, name)
        if len(table):
            _show(_table(table.head(10), f"{name} (first 10 of {len(table)})"), wide)



# ---------------------------------------------------------------- research
def _value(text: str) -> Any:
    import json

    try:
        return json.loads(text)
    except ValueError:
        return text


def _kv(items: list[str] | None, what: str) -> dict[str, str]:
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise WorkbenchError(f"{what} {item!r} must look like name=value")
        out[key.strip()] = value.strip()
    return out


def _strategy(name: str, params: list[str] | None = None, strategy_file: str | None = None, **risk: Any) -> Any:
    """Strategy ``name`` (built-in, entry point, ``file.py:Name``, or in ``--strategy-file``) with ``--param``
    overrides and Risk fields (their defaults if omitted)."""
    from workbench.core.strategies import Risk, make_strategy

    return make_strategy(name, strategy_file=strategy_file, risk=Risk(**risk),
                         **{k: _value(v) for k, v in _kv(params, "--param").items()})


def _config(capital: float, fee_pct: float, slippage_pct: float, risk_free_pct: float = 0.0,
            confirmed: bool = False) -> Any:
    """BacktestConfig of the percent options (checked by :func:`workbench.cli.units.fractions_from_pct`)."""
    from workbench.cli.units import fractions_from_pct
    from workbench.core.backtest import BacktestConfig

    f = fractions_from_pct(fee_pct=fee_pct, slippage_pct=slippage_pct, risk_free_pct=risk_free_pct,
                           confirmed=confirmed)
    return BacktestConfig(initial_capital=capital, fee_rate=f["fee_rate"], slippage=f["slippage"],
                          risk_free_rate=f["risk_free_rate"])


def _risk(risk_per_trade: float, max_positions: int, stop_loss: float, take_profit: float,
          confirmed: bool) -> dict[str, Any]:
    """Risk fields of the percent options, each checked by :func:`workbench.cli.units.check_pct`."""
    from workbench.cli.units import check_pct

    return {"risk_per_trade": check_pct("--risk-per-trade-pct", risk_per_trade), "max_positions": max_positions,
            "stop_loss_pct": check_pct("--stop-loss-pct", stop_loss, confirmed=confirmed),
            "take_profit_pct": check_pct("--take-profit-pct", take_profit, confirmed=confirmed)}


StrategyArg = Annotated[str, typer.Argument(help="strategy: built-in or entry point (see `workbench strategies`), "
                                                 "or a user's file.py:Name")]
StrategyFileOpt = Annotated[str | None, typer.Option("--strategy-file", help="a .py file defining STRATEGY")]
SymbolsOpt = Annotated[str, typer.Option(help="comma-separated symbols")]
ParamOpt = Annotated[list[str] | None, typer.Option("--param", help="strategy parameter name=value")]
# every rate and share of the cost and risk options is in percent, and says so in its name
RiskPerTradeOpt = Annotated[float, typer.Option("--risk-per-trade-pct", "--risk-per-trade",
                                                help="equity risked per trade, percent (2 = 2 %)")]
MaxPositionsOpt = Annotated[int, typer.Option(callback=_checked(checks.MAX_POSITIONS, "--max-positions"))]
StopLossOpt = Annotated[float, typer.Option("--stop-loss-pct", "--stop-loss",
                                            help="stop loss below the entry, percent (2 = 2 %; 0 = none)")]
TakeProfitOpt = Annotated[float, typer.Option("--take-profit-pct", "--take-profit",
                                              help="take profit above the entry, percent (4 = 4 %; 0 = none)")]
CapitalOpt = Annotated[float, typer.Option(help="initial capital, KRW", callback=_checked(checks.CAPITAL, "--capital"))]
FeeOpt = Annotated[float, typer.Option("--fee-pct", help="fee per side, percent (0.25 = 0.25 %)")]
SlippageOpt = Annotated[float, typer.Option("--slippage-pct", help="slippage per side, percent (0.05 = 0.05 %; "
                                                                   "5 or more needs --yes-i-mean-it)")]
ConfirmOpt = Annotated[bool, typer.Option("--yes-i-mean-it", help="accept a slippage of 5 % or more, or a stop "
                                                                  "loss / take profit below 0.1 %")]
LimitOpt = Annotated[int, typer.Option(callback=_checked(checks.LIMIT, "--limit"))]

#: the option defaults of ``backtest`` and ``paper``: Risk's and BacktestConfig's own (written here so that
#: ``--help`` needs no import of the engine; tests/test_cli.py checks they are the same)
RISK_DEFAULTS: dict[str, float] = {"risk_per_trade": 2.0, "max_positions": 5, "stop_loss_pct": 2.0,
                                   "take_profit_pct": 4.0}
CONFIG_DEFAULTS: dict[str, float] = {"initial_capital": 10_000_000.0, "fee_rate": 0.0025, "slippage": 0.0005}
#: the cost options' defaults, in percent
FEE_PCT_DEFAULT, SLIPPAGE_PCT_DEFAULT = 0.25, 0.05


@app.command()
def strategies() -> None:
    """List the strategies (built-in per-symbol, built-in portfolio, installed entry points) and their
    parameters."""
    from workbench.core.strategies.registry import available_strategies

    rows = [[name, cls.strategy_type, ", ".join(f"{k}={v}" for k, v in cls.defaults.items()), cls.description]
            for name, cls in available_strategies().items()]
    _show(_rows_table("strategies", ["name", "type", "parameters", "description"], rows,
                      priority={"name": 3, "type": 2, "parameters": 1}), wide_option=False)


@app.command()
def indicators(
    symbols: Annotated[str, typer.Argument(help="comma-separated symbols")],
    timeframe: Annotated[str, typer.Option()] = "1h",
    start: Annotated[str | None, typer.Option()] = None,
    end: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Compute the technical indicators of stored candles and store them."""
    from tqdm.auto import tqdm

    from workbench.app.research import symbol_list
    from workbench.store.indicator_store import compute_and_store_indicators

    names = symbol_list(symbols)
    wb = _connect()
    for sym in names:   # every symbol has candles (else DataNotFoundError) before any indicator is stored
        wb.candles(sym, timeframe, start, end)
    for sym in tqdm(names, desc="indicators", unit="symbol"):
        run = compute_and_store_indicators(wb.db, sym, timeframe, start, end, cache=wb.cache)
        out.print(f"{sym} {timeframe}: {run.indicators}"
                  + (f"; candle columns: {run.candle_columns}" if run.candle_columns else ""))


@app.command()
def backtest(
    strategy: StrategyArg,
    symbols: SymbolsOpt = "KRW-SYNBTC",
    timeframe: Annotated[str, typer.Option()] = "1h",
    start: Annotated[str | None, typer.Option()] = None,
    end: Annotated[str | None, typer.Option()] = None,
    param: ParamOpt = None,
    risk_per_trade: RiskPerTradeOpt = RISK_DEFAULTS["risk_per_trade"],
    max_positions: MaxPositionsOpt = int(RISK_DEFAULTS["max_positions"]),
    stop_loss: StopLossOpt = RISK_DEFAULTS["stop_loss_pct"],
    take_profit: TakeProfitOpt = RISK_DEFAULTS["take_profit_pct"],
    capital: CapitalOpt = CONFIG_DEFAULTS["initial_capital"],
    fee: FeeOpt = FEE_PCT_DEFAULT,
    slippage: SlippageOpt = SLIPPAGE_PCT_DEFAULT,
    yes_i_mean_it: ConfirmOpt = False,
    benchmark: Annotated[str, typer.Option(help="compare with: equal-weight (buy & hold of the traded symbols), "
                                                "a symbol's buy & hold (e.g. KRW-BTC) or none")] = "equal-weight",
    risk_free: Annotated[float, typer.Option("--risk-free-pct", help="annual risk-free rate for Sharpe/Sortino/"
                                                                     "alpha, percent (3.5 = 3.5 %)")] = 0.0,
    store: Annotated[bool, typer.Option(help="store the run in backtest_results")] = True,
    strategy_file: StrategyFileOpt = None,
) -> None:
    """Backtest a strategy on stored candles and store the result."""
    strat = _strategy(strategy, param, strategy_file,
                      **_risk(risk_per_trade, max_positions, stop_loss, take_profit, yes_i_mean_it))
    config = _config(capital, fee, slippage, risk_free, yes_i_mean_it)
    run = _connect().backtest(strat, symbols, timeframe, start, end, config=config, store=store, benchmark=benchmark,
                              risk_free_rate=config.risk_free_rate)
    _show(_metrics_table(run.result, str(strat)), wide_option=False)
    if run.backtest_id is not None:
        out.print(f"stored as backtest_results.id {run.backtest_id} (run {run.run_id})")


def _grid(items: list[str] | None) -> dict[str, list[Any]]:
    grid = {k: [_value(x) for x in v.split(",") if x.strip()] for k, v in _kv(items, "--grid").items()}
    if not grid:
        raise WorkbenchError("give at least one --grid name=v1,v2,...")
    return grid


GridOpt = Annotated[list[str] | None, typer.Option("--grid", help="parameter values, name=v1,v2,v3")]


@app.command()
def sweep(
    strategy: StrategyArg,
    grid: GridOpt = None,
    symbols: SymbolsOpt = "KRW-SYNBTC",
    timeframe: Annotated[str, typer.Option()] = "1h",
    start: Annotated[str | None, typer.Option()] = None,
    end: Annotated[str | None, typer.Option()] = None,
    chunk_size: Annotated[int, typer.Option(help="combinations per engine call / Dask task (memory bound)",
                                            callback=_checked(checks.CHUNK_SIZE, "--chunk-size"))] = 8,
    store: Annotated[bool, typer.Option()] = True,
    sweep_id: Annotated[str | None, typer.Option(help="resume this sweep: skip the combinations it stored")] = None,
    dask: Annotated[bool, typer.Option(help="run on Dask: WORKBENCH_DASK_ADDRESS, else a local cluster")] = False,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address (implies --dask)")] = None,
    per_symbol: Annotated[bool, typer.Option(help="each symbol its own sweep (Dask tasks symbol x chunk)")] = False,
    strategy_file: StrategyFileOpt = None,
    wide: WideOpt = False,
) -> None:
    """Grid sweep of a strategy's parameters; every combination is stored."""
    values = _grid(grid)
    extra: dict[str, Any] = {"dask": True, "scheduler": scheduler, "per_symbol": per_symbol} if (
        dask or scheduler or per_symbol) else {}
    strat = _strategy(strategy, None, strategy_file)
    outcome = _connect().sweep(strat, values, symbols, timeframe, start, end, chunk_size=chunk_size,
                               store=store, sweep_id=sweep_id, **extra)
    if outcome.table.attrs.get("resumed"):
        out.print(f"resumed sweep {outcome.sweep_id}: {outcome.table.attrs['resumed']} combinations were stored")
    cols = [*(["symbol"] if per_symbol else []), *values, "total_return", "sharpe_ratio", "max_drawdown",
            "total_trades", "backtest_id"]
    table = outcome.table.sort_values("sharpe_ratio", ascending=False)[cols]
    _show(_table(table, f"sweep {outcome.sweep_id}, best {metric_title('sharpe_ratio')} first",
                 _SHORT_HEADERS, {"symbol": 5, **dict.fromkeys(values, 4), "sharpe_ratio": 4, "total_return": 3,
                                  "max_drawdown": 2, "total_trades": 1}), wide)
    if outcome.overfitting is not None:
        out.print(outcome.overfitting.describe())
    for combo, why in outcome.skipped:
        console.print(f"skipped {combo}: {why}")


@app.command()
def optimize(
    strategy: StrategyArg,
    space: Annotated[list[str] | None, typer.Option(
        "--space", help="parameter range: name=low:high[:step|:log] or name=a,b,c")] = None,
    trials: Annotated[int, typer.Option(help="the study's total number of trials",
                                        callback=_checked(checks.TRIALS, "--trials"))] = 50,
    metric: Annotated[str, typer.Option()] = "sharpe_ratio",
    study: Annotated[str | None, typer.Option(help="study name: resumes the study if it exists")] = None,
    symbols: SymbolsOpt = "KRW-SYNBTC",
    timeframe: Annotated[str, typer.Option()] = "1h",
    start: Annotated[str | None, typer.Option()] = None,
    end: Annotated[str | None, typer.Option()] = None,
    folds: Annotated[int, typer.Option(help="walk-forward folds of the search range (pruning steps)",
                                       callback=_checked(checks.FOLDS, "--folds"))] = 3,
    holdout: Annotated[float, typer.Option(help="share of the data kept out of the search",
                                           callback=_checked(checks.FRACTION, "--holdout"))] = 0.3,
    seed: Annotated[int | None, typer.Option(callback=_checked(checks.SEED, "--seed"))] = None,
    strategy_file: StrategyFileOpt = None,
) -> None:
    """Optuna (TPE) search of a strategy's parameters, stored in PostgreSQL and resumable."""
    import pandas as pd

    if not space:
        raise WorkbenchError("give at least one --space name=low:high (or name=a,b,c)")
    strat = _strategy(strategy, None, strategy_file)
    res = _connect().optimize(strat, space, symbols, timeframe, start, end, n_trials=trials,
                              metric=metric, study_name=study, n_folds=folds, holdout=holdout, seed=seed)
    higher = res.study.direction.name == "MAXIMIZE"
    top = res.trials[res.trials["state"] == "COMPLETE"].sort_values("value", ascending=not higher).head(10)
    top = top[["number", "value", *[c for c in top if c.startswith("params_")]]]
    top = top.rename(columns=lambda c: c.removeprefix("params_"))
    _show(_table(top, f"study {res.study_name}: best trials by {metric_title(metric)}",
                 {"value": metric_title(metric)}), wide_option=False)
    summary = res.summary()
    _show(_table(pd.DataFrame({"": list(summary.index), "value": [_cell(str(k), v) for k, v in summary.items()]}),
                 "search summary"), wide_option=False)
    if res.overfitting is not None:
        out.print(res.overfitting.describe())
    out.print(f"stored: in-sample run {res.in_sample.backtest_id}, out-of-sample run "
              f"{None if res.out_of_sample is None else res.out_of_sample.backtest_id} (sweep {res.sweep_id})")


@app.command("walk-forward")
def walk_forward_cmd(
    strategy: StrategyArg,
    grid: GridOpt = None,
    symbols: SymbolsOpt = "KRW-SYNBTC",
    timeframe: Annotated[str, typer.Option()] = "1h",
    start: Annotated[str | None, typer.Option()] = None,
    end: Annotated[str | None, typer.Option()] = None,
    mode: Annotated[str, typer.Option(help="rolling (train on the last --train-bars) or anchored (train on "
                                           "all bars before each test window)")] = "rolling",
    folds: Annotated[int | None, typer.Option(help="out-of-sample windows (default 4, or what --train-bars "
                                                   "and --test-bars leave)",
                                              callback=_checked(checks.FOLDS, "--folds"))] = None,
    train_bars: Annotated[int | None, typer.Option(help="bars of the first training window",
                                                   callback=_checked(checks.PERIOD, "--train-bars"))] = None,
    test_bars: Annotated[int | None, typer.Option(help="bars per out-of-sample window (the last one also takes "
                                                       "the remainder)",
                                                  callback=_checked(checks.PERIOD, "--test-bars"))] = None,
    train_fraction: Annotated[float | None, typer.Option(help="without bar counts: training share of each "
                                                              "rolling window, fraction (default 0.7)",
                                                      callback=_checked(checks.FRACTION, "--train-fraction"))] = None,
    metric: Annotated[str, typer.Option()] = "sharpe_ratio",
    dask: Annotated[bool, typer.Option(help="one Dask task per fold: WORKBENCH_DASK_ADDRESS, else local")] = False,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address (implies --dask)")] = None,
    strategy_file: StrategyFileOpt = None,
    wide: WideOpt = False,
) -> None:
    """Walk-forward test: out-of-sample windows tile the history after the first training window; each
    fold picks parameters on its training bars and tests them on its window."""
    from workbench.present.walkforward import fold_columns, walk_forward_summary

    extra: dict[str, Any] = {"dask": True, "scheduler": scheduler} if (dask or scheduler) else {}
    strat = _strategy(strategy, None, strategy_file)
    wf = _connect().walk_forward(strat, _grid(grid), symbols, timeframe, start, end, mode=mode,
                                 n_folds=folds, train_bars=train_bars, test_bars=test_bars,
                                 train_fraction=train_fraction, metric=metric, **extra)
    _show(_table(fold_columns(wf.folds, wf.metric), f"walk-forward folds, {wf.mode} (periods in KST; is = in "
                 "sample, oos = out of sample)", _fold_headers(wf.metric),
                 {"fold": 9, "test period": 8, "parameters": 7, f"oos_{wf.metric}": 6, "oos_total_return": 5,
                  f"is_{wf.metric}": 4, "oos_max_drawdown": 3, "train period": 2, "oos_total_trades": 1}), wide)
    summary = walk_forward_summary(wf)
    _show(_table(summary.rename(columns={"figure": ""}), "walk-forward summary (stitched out-of-sample curve)"),
          wide)


@app.command()
def check(
    strategy: StrategyArg,
    symbol: Annotated[str, typer.Option(help="the symbol whose stored candles are used")] = "KRW-SYNBTC",
    timeframe: Annotated[str, typer.Option()] = "1h",
    start: Annotated[str | None, typer.Option()] = None,
    end: Annotated[str | None, typer.Option()] = None,
    param: ParamOpt = None,
    strategy_file: StrategyFileOpt = None,
    cuts: Annotated[int, typer.Option(help="cut points of the lookahead check")] = 30,
    tolerance: Annotated[float, typer.Option(help="relative difference under which a value has settled")] = 1e-6,
) -> None:
    """Lookahead and warm-up gate: recompute the strategy on data cut at many points (a changed past value
    is a leak: exit 1) and on data started later (bars each series needs to settle)."""
    from workbench.core.strategies import check_strategy
    from workbench.present.formatting import format_pct_small

    strat = _strategy(strategy, param, strategy_file)
    report = check_strategy(strat, _connect().candles(symbol, timeframe, start, end), cuts=cuts,
                            tolerance=tolerance)
    _show(_table(report.lookahead_table(), f"lookahead of {strat.name} on {symbol} {timeframe}"), wide_option=False)
    _show(_table(report.warmup_table(), f"warm-up: bars to settle within {format_pct_small(tolerance)}, largest "
                                        "relative difference left after N bars"), wide_option=False)
    out.print(report.verdict(), soft_wrap=True)
    if not report.passed:
        raise typer.Exit(1)


@runs_app.callback()
def runs(ctx: typer.Context, limit: LimitOpt = 20, wide: WideOpt = False) -> None:
    """Stored backtest runs, newest first: yours (WORKBENCH_USERNAME) and those shared with you."""
    import pandas as pd

    if ctx.invoked_subcommand is not None:
        return
    df = _connect(need_redis=False).runs(limit=limit)
    if df.empty:
        out.print("no stored runs")
        return
    frame = pd.DataFrame({
        "id": df["id"], "strategy": df["strategy"],
        "parameters": [_params_text((p or {}).get("params")) for p in df["parameters"]],
        "symbol": df["symbol"], "tf": df["timeframe"],
        "period (KST)": [_period(a, b) for a, b in zip(df["start_date"], df["end_date"], strict=True)],
        "total_return": df["total_return"], "sharpe_ratio": df["sharpe_ratio"], "max_drawdown": df["max_drawdown"],
        "total_trades": df["total_trades"],
        "split": df["split"].fillna("–").replace({"out_of_sample": "oos"}),
    })
    _show(_table(frame, "backtest runs, newest first", _SHORT_HEADERS,
                 {"id": 9, "strategy": 8, "total_return": 7, "parameters": 6, "symbol": 5, "sharpe_ratio": 5,
                  "period (KST)": 4, "max_drawdown": 3, "tf": 2, "total_trades": 2, "split": 1}), wide)


@runs_app.command("share")
def runs_share(
    backtest_id: Annotated[int, typer.Argument(help="id of one of your runs (see `workbench runs`)")],
    with_user: Annotated[str, typer.Option("--with", help="the user to share it with")],
) -> None:
    """Let another user see one of your runs (in `workbench runs` and the portal)."""
    from workbench.app.accounts import share_run

    wb = _connect(need_redis=False)
    share_run(wb.db, backtest_id, owner_id=wb.user_id, username=with_user)
    out.print(f"backtest {backtest_id} shared with {with_user}")


@app.command()
def rerun(backtest_id: Annotated[int, typer.Argument(help="id of a stored run (see `workbench runs`)",
                                                    callback=_checked(checks.RECORD_ID, "BACKTEST_ID"))]) -> None:
    """Re-execute a stored run from its manifest and report whether it reproduces bit for bit.

    Exit status 0 when data, equity, trades and metrics are identical, 1 otherwise. Stores nothing.
    """
    report = _connect().rerun(backtest_id)
    _show(_table(report.table(), f"re-run of backtest {backtest_id}"), wide_option=False)
    if report.reproduced:
        out.print(f"backtest {backtest_id} reproduced bit for bit")
        return
    console.print(f"[red]backtest {backtest_id} did NOT reproduce[/red]: "
                  + ", ".join(c.name for c in report.checks if c.name in ("data", "equity", "trades", "metrics")
                              and c.ok is not True) + " differ")
    raise typer.Exit(1)


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
    from workbench.app.report import run_report

    settings = _settings()
    path = run_report(notebook, parse_report_params(ctx.args), output_dir=output_dir or settings.reports_dir,
                      hide_code=not show_code, notebooks_dir=settings.notebooks_dir)
    out.print(str(path))
    out.print(f"index of all reports: {path.parent / 'index.html'}")
    from workbench.app.notify.events import report_finished

    try:
        report_finished(_connect(), path)
    except WorkbenchError as err:   # the report stands; only its notification is lost
        console.print(f"notification not sent: {err}")


def parse_report_params(args: list[str]) -> dict[str, str]:
    """``["-p", "k", "v", "-p", "x=1"]`` -> ``{"k": "v", "x": "1"}``; anything else is an error."""
    params: dict[str, str] = {}
    i = 0
    while i < len(args):
        flag = args[i]
        if flag not in ("-p", "--parameter"):
            raise WorkbenchError(f"unexpected argument {flag!r}; parameters are given as -p NAME VALUE")
        rest = args[i + 1:i + 3]
        if rest and "=" in rest[0] and (len(rest) == 1 or rest[1] in ("-p", "--parameter")):
            key, _, value = rest[0].partition("=")
            i += 2
        elif len(rest) == 2:
            key, value = rest
            i += 3
        else:
            raise WorkbenchError(f"{flag} needs a name and a value: -p NAME VALUE")
        params[key] = value
    return params


@app.command()
def study(
    timeframe: Annotated[str, typer.Option()] = "1h",
    keep_services: Annotated[bool, typer.Option(help="leave embedded servers running")] = False,
) -> None:
    """The default study, end to end: sample data, indicators, every built-in strategy, HTML reports."""
    from workbench.app.study import run_study

    def log(text: str) -> None:   # whole lines, however narrow the terminal or pipe (never wrapped at 80)
        out.print(text, soft_wrap=True, highlight=False)

    result = run_study(_settings(), timeframe=timeframe, keep_services=keep_services, log=log)
    out.print(result.verdict, soft_wrap=True)
    for name, path in result.reports.items():
        out.print(f"report ({name}): {path.resolve()}", soft_wrap=True, highlight=False)
    if result.reports:
        out.print(f"index of all reports: {next(iter(result.reports.values())).resolve().parent / 'index.html'}",
                  soft_wrap=True, highlight=False)


@app.command()
def lab(port: Annotated[int | None, typer.Option(help="JupyterLab's port (default 8888, or a free one)")] = None,
        no_browser: Annotated[bool, typer.Option("--no-browser", help="do not open a browser")] = False) -> None:
    """JupyterLab in notebooks/ with a "workbench" kernel, on the configured servers (or the embedded ones)."""
    from workbench.app.lab import run_lab

    raise typer.Exit(run_lab(_settings(), port=port, open_browser=not no_browser,
                             log=lambda text: out.print(text, soft_wrap=True, highlight=False)))


# ---------------------------------------------------------------- paper trading
def _paper_strategy(wb: Any, name: str, params: list[str] | None, strategy_file: str | None, **risk: Any) -> Any:
    """A stored strategy by id or name (with ``--param`` overrides), else a built-in, entry point or file one."""
    from workbench.core.strategies.registry import is_strategy_reference
    from workbench.errors import DataNotFoundError

    if strategy_file is None and (name.isdigit() or not is_strategy_reference(name)):
        try:
            stored = wb.strategy(int(name) if name.isdigit() else name)
        except DataNotFoundError:
            if name.isdigit():
                raise
        else:
            overrides = {k: _value(v) for k, v in _kv(params, "--param").items()}
            return stored.with_params(**overrides) if overrides else stored
    return _strategy(name, params, strategy_file, **risk)


@app.command()
def paper(
    strategy: Annotated[str, typer.Argument(help="stored strategy (id or name; its own risk settings) or a "
                                                 "built-in one")] = "",
    symbols: SymbolsOpt = "KRW-SYNBTC",
    timeframe: Annotated[str, typer.Option()] = "1h",
    replay: Annotated[tuple[str, str] | None, typer.Option(help="replay stored candles: START END")] = None,
    speed: Annotated[float | None, typer.Option(help="replay pace, x real time (default: as fast as possible)",
                                                callback=_checked(checks.SPEED, "--speed"))] = None,
    resume: Annotated[int | None, typer.Option(help="continue paper run ID (STRATEGY is ignored)",
                                               callback=_checked(checks.RECORD_ID, "--resume"))] = None,
    param: ParamOpt = None,
    risk_per_trade: RiskPerTradeOpt = RISK_DEFAULTS["risk_per_trade"],
    max_positions: MaxPositionsOpt = int(RISK_DEFAULTS["max_positions"]),
    stop_loss: StopLossOpt = RISK_DEFAULTS["stop_loss_pct"],
    take_profit: TakeProfitOpt = RISK_DEFAULTS["take_profit_pct"],
    capital: CapitalOpt = CONFIG_DEFAULTS["initial_capital"],
    fee: FeeOpt = FEE_PCT_DEFAULT,
    slippage: SlippageOpt = SLIPPAGE_PCT_DEFAULT,
    yes_i_mean_it: ConfirmOpt = False,
    exchange_rules: Annotated[bool, typer.Option(help="Bithumb tick sizes, 5,000 KRW minimum, quantity "
                                                      "precision, order-book fills")] = True,
    warmup: Annotated[int, typer.Option(help="live: bars before now that warm the indicators up",
                                        callback=_checked(checks.WARMUP, "--warmup"))] = 200,
    poll_interval: Annotated[float | None, typer.Option(
        help="live: seconds between polls", callback=_checked(checks.POLL_INTERVAL, "--poll-interval"))] = None,
    max_polls: Annotated[int | None, typer.Option(help="live: stop after this many polls",
                                                  callback=_checked(checks.MAX_POLLS, "--max-polls"))] = None,
    strategy_file: StrategyFileOpt = None,
) -> None:
    """Paper-trade a strategy: live on Bithumb's public candles, or --replay START END of stored candles.

    Every signal, order and error is written to strategy_executions; orders, trades, positions and a
    portfolio row are kept current. Ctrl-C stops; --resume ID continues without repeating orders.
    """
    from workbench.core.paper.rules import OrderRules

    if resume is None and not strategy:
        raise WorkbenchError("give a STRATEGY (see `workbench strategies`) or --resume RUN_ID")
    # checked before anything is connected or written
    config = _config(capital, fee, slippage, confirmed=yes_i_mean_it)
    risk = _risk(risk_per_trade, max_positions, stop_loss, take_profit, yes_i_mean_it)
    wb = _connect()
    try:
        if resume is not None:
            if replay is not None:
                raise WorkbenchError("--resume continues a run as it was started; do not combine it with --replay")
            outcome = wb.paper_resume(resume, progress=True, poll_interval=poll_interval, max_polls=max_polls)
        else:
            strat = _paper_strategy(wb, strategy, param, strategy_file, **risk)
            rules = OrderRules() if exchange_rules else OrderRules.off()
            if replay is not None:
                outcome = wb.paper_replay(strat, symbols, timeframe, replay[0], replay[1], config=config,
                                          rules=rules, speed=speed, progress=True)
            else:
                outcome = wb.paper_live(strat, symbols, timeframe, config=config, rules=rules, warmup=warmup,
                                        poll_interval=poll_interval, max_polls=max_polls)
    except KeyboardInterrupt:
        console.print("stopped; continue with `workbench paper --resume RUN_ID` (see `workbench paper-runs`)")
        raise typer.Exit(130) from None
    out.print(str(outcome))
    out.print(f"reconcile with the backtest: workbench reconcile {outcome.run_id}")


@app.command("paper-runs")
def paper_runs(limit: LimitOpt = 20, wide: WideOpt = False) -> None:
    """Paper runs, newest first."""
    df = _connect().paper_runs(limit=limit)
    if df.empty:
        out.print("no paper runs")
        return
    frame = df[["id", "strategy", "mode", "symbols", "timeframe", "last_bar", "bars_processed", "fills", "status",
                "equity"]]
    _show(_table(frame, "paper runs", headers={"timeframe": "tf", "last_bar": "last bar",
                                                "bars_processed": "bars"},
                 priority={"id": 9, "strategy": 8, "equity": 7, "status": 6, "symbols": 5, "mode": 4,
                           "last_bar": 3, "fills": 2, "timeframe": 1}), wide)


#: headers of the reconcile tables (_p: paper, _b: backtest)
_RECONCILE_HEADERS = {"entry_time": "entry", "size_p": "size paper", "size_b": "size backtest",
                      "entry_price_p": "entry paper", "entry_price_b": "entry backtest",
                      "exit_price_p": "exit paper", "exit_price_b": "exit backtest", "pnl_difference": "PnL diff",
                      "entry_price": "entry price", "exit_price": "exit price", "pnl": "PnL"}


@app.command()
def reconcile(run: Annotated[int, typer.Argument(help="paper run id (see `workbench paper-runs`)",
                                                 callback=_checked(checks.RECORD_ID, "RUN"))],
              wide: WideOpt = False) -> None:
    """Compare a paper run with the backtest of the same strategy, symbols, window and costs."""
    rec = _connect().reconcile(run)
    out.print(str(rec))
    if len(rec.matched):
        cols = ["symbol", "entry_time", "size_p", "size_b", "entry_price_p", "entry_price_b", "exit_price_p",
                "exit_price_b", "pnl_difference"]
        diff = rec.matched[rec.matched["pnl_difference"].abs() > 1e-6][cols]
        if len(diff):
            _show(_table(diff.head(20), "matched trades that differ (first 20)", _RECONCILE_HEADERS,
                         {"symbol": 9, "entry_time": 8, "pnl_difference": 7, "entry_price_p": 6, "entry_price_b": 6,
                          "exit_price_p": 5, "exit_price_b": 5, "size_p": 4, "size_b": 4}), wide)
    for name, frame in (("extra trades (paper only)", rec.extra), ("missed trades (backtest only)", rec.missed)):
        if len(frame):
            _show(_table(frame[["symbol", "entry_time", "size", "entry_price", "exit_price", "pnl"]].head(20), name,
                         _RECONCILE_HEADERS, {"symbol": 9, "entry_time": 8, "pnl": 7, "entry_price": 6,
                                              "exit_price": 5, "size": 4}), wide)


# ---------------------------------------------------------------- secrets
@secrets_app.command("generate-key")
def secrets_generate_key(
    keyring: Annotated[bool, typer.Option("--keyring", help="store it in the OS keyring, don't print it")] = False,
) -> None:
    """Make a new encryption key (for WORKBENCH_SECRET_KEY, or the OS keyring)."""
    from workbench.store.secrets import ENV_VAR, generate_key, save_key_to_keyring

    key = generate_key()
    if keyring:
        save_key_to_keyring(key)
        out.print("stored a new key in the OS keyring (service 'workbench')")
    else:
        out.print(f"export {ENV_VAR}={key}")


@secrets_app.command("set-bithumb")
def secrets_set_bithumb() -> None:
    """Store your Bithumb API key and secret, encrypted (asked for without echo)."""
    from workbench.store.secrets import load_bithumb_keys, secret_key, store_bithumb_keys

    secret_key()   # fail before asking for anything when there is no encryption key
    api_key = typer.prompt("Bithumb API key", hide_input=True)
    secret = typer.prompt("Bithumb secret key", hide_input=True)
    wb = _connect()
    store_bithumb_keys(wb.db, wb.user_id, api_key, secret)
    out.print(f"stored (encrypted) for user {wb.settings.username}: {load_bithumb_keys(wb.db, wb.user_id)}")


@secrets_app.command("status")
def secrets_status() -> None:
    """Whether Bithumb keys are stored for the user (masked)."""
    from workbench.store.secrets import load_bithumb_keys

    wb = _connect()
    keys = load_bithumb_keys(wb.db, wb.user_id)
    out.print(f"user {wb.settings.username}: " + (str(keys) if keys else "no Bithumb keys stored"))


# ---------------------------------------------------------------- users and the portal
def _password(stdin: bool) -> str:
    """A new password: the first line of stdin, or asked twice without echo."""
    if stdin:
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    first = getpass.getpass("password: ")
    if getpass.getpass("password (again): ") != first:
        raise WorkbenchError("the two passwords differ; nothing was changed")
    return first


PasswordStdinOpt = Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")]


@users_app.command("add")
def users_add(name: str, email: Annotated[str, typer.Option(help="the user's email address")],
              password_stdin: PasswordStdinOpt = False) -> None:
    """Add a user who can log in to the portal (the password is asked for without echo)."""
    from workbench.app.accounts import add_user, check_new_user

    check_new_user(name, email)
    password = _password(password_stdin)
    uid = add_user(_connect(need_redis=False).db, name, email, password)
    out.print(f"user {name} added (id {uid})")


@users_app.command("list")
def users_list() -> None:
    """Users, their state and last login (UTC)."""
    from workbench.app.accounts import list_users

    df = list_users(_connect(need_redis=False).db)
    frame = df[["username", "email", "is_active", "can_log_in", "last_login", "active_sessions"]]
    _show(_table(frame, "users", {"is_active": "active", "can_log_in": "password", "last_login": "last login",
                                  "active_sessions": "sessions"}))


@users_app.command("disable")
def users_disable(name: str) -> None:
    """Stop a user from logging in; their portal sessions end at once."""
    from workbench.app.accounts import disable_user

    wb = _connect()
    ended = disable_user(wb.db, wb.redis_client(), name)
    out.print(f"user {name} disabled; {ended} session(s) ended")


@users_app.command("enable")
def users_enable(name: str) -> None:
    """Let a disabled user log in again."""
    from workbench.app.accounts import enable_user

    enable_user(_connect(need_redis=False).db, name)
    out.print(f"user {name} enabled")


@users_app.command("set-password")
def users_set_password(name: str, password_stdin: PasswordStdinOpt = False) -> None:
    """Give a user a new password; their portal sessions end."""
    from workbench.app.accounts import set_password
    from workbench.errors import DataNotFoundError
    from workbench.store.users import get_user

    wb = _connect()
    if get_user(wb.db, name) is None:   # before asking for a password
        raise DataNotFoundError(f"no user named {name[:60]!r} (see `workbench users list`)")
    ended = set_password(wb.db, wb.redis_client(), name, _password(password_stdin))
    out.print(f"password of {name} changed; {ended} session(s) ended")


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option(callback=_checked(checks.PORT, "--port"))] = 8765,
    session_hours: Annotated[float, typer.Option(help="how long a login lasts",
                                                 callback=_checked(checks.SESSION_HOURS, "--session-hours"))] = 12.0,
) -> None:
    """Serve reports/ (index and reports) behind a login, until Ctrl-C (users: `workbench users add`)."""
    from datetime import timedelta

    from workbench.portal import PortalConfig
    from workbench.portal.server import listen, serve

    sock = listen(host, port)
    try:
        wb = _connect()
        config = PortalConfig(reports_dir=wb.settings.reports_dir, session_lifetime=timedelta(hours=session_hours),
                              data_dir=wb.settings.data_dir, archive_location=wb.settings.archive_location)
        serve(wb.db, wb.redis_client(), config, sock, log=out.print)
    finally:
        sock.close()


@app.command()
def monitor() -> None:
    """Database connections, slowest queries, table sizes, archive state, Redis and free disk, now."""
    from workbench.app.monitor import snapshot

    wb = _connect()
    report = snapshot(wb.db, wb.redis_client(), data_dir=wb.settings.data_dir,
                      archive_location=wb.settings.archive_location, reports_dir=wb.settings.reports_dir)
    for title, frame in report.sections():
        _show(_table(frame, title))


# ---------------------------------------------------------------- ingest
def _client() -> Any:
    from workbench.ingest.bithumb import BithumbClient

    return BithumbClient(base_url=_settings().bithumb_base_url)


ApiOpt = Annotated[str, typer.Option(help="v1 or legacy")]


@ingest_app.command("candles")
def ingest_candles_cmd(
    symbol: str,
    timeframe: Annotated[str, typer.Option()] = "1m",
    api: ApiOpt = "v1",
    count: Annotated[int, typer.Option(help="candles per request (v1: 1-200)",
                                       callback=_checked(checks.COUNT, "--count"))] = 200,
    pages: Annotated[int, typer.Option(help="v1: requests walking back in time",
                                       callback=_checked(checks.PAGES, "--pages"))] = 1,
) -> None:
    """Fetch candles from Bithumb and upsert them."""
    from workbench.ingest.service import ingest_candles

    wb = _connect(need_redis=False)
    with _client() as client:
        result = ingest_candles(wb.db, client, symbol, timeframe, api=api, count=count,  # type: ignore[arg-type]
                                pages=pages, cache=wb.cache, progress=True)
    out.print(str(result))
    from workbench.app.notify.events import check_after_ingest

    check_after_ingest(wb, symbol, timeframe, result.rows)


@ingest_app.command("tickers")
def ingest_tickers_cmd(
    symbols: Annotated[str | None, typer.Argument(help="comma-separated; omit for all KRW markets")] = None,
    api: ApiOpt = "v1",
) -> None:
    """Snapshot tickers into the tickers table (and the 1 s Redis cache)."""
    from workbench.ingest.service import ingest_tickers

    wb = _connect()
    with _client() as client:
        result = ingest_tickers(wb.db, client, symbols.split(",") if symbols else None, api=api,  # type: ignore[arg-type]
                                cache=wb.cache)
    out.print(str(result))


@ingest_app.command("orderbooks")
def ingest_orderbooks_cmd(symbols: Annotated[str, typer.Argument(help="comma-separated")], api: ApiOpt = "v1") -> None:
    """Snapshot order books into the orderbooks table (and the 1 s Redis cache)."""
    from workbench.ingest.service import ingest_orderbooks

    wb = _connect()
    with _client() as client:
        result = ingest_orderbooks(wb.db, client, symbols.split(","), api=api, cache=wb.cache)  # type: ignore[arg-type]
    out.print(str(result))


@ingest_app.command("trades")
def ingest_trades_cmd(
    symbol: str,
    api: ApiOpt = "v1",
    count: Annotated[int, typer.Option(callback=_checked(checks.COUNT, "--count"))] = 100,
) -> None:
    """Fetch recent trades into the transactions table (re-runs add no duplicates)."""
    from workbench.ingest.service import ingest_trades

    wb = _connect(need_redis=False)
    with _client() as client:
        result = ingest_trades(wb.db, client, symbol, api=api, count=count)  # type: ignore[arg-type]
    out.print(str(result))


# ---------------------------------------------------------------- notify
@notify_app.command("worker")
def notify_worker(
    name: Annotated[str | None, typer.Option(help="worker name (default host-pid); a restart under the same "
                                                  "name re-queues at once what the killed one left")] = None,
    max_attempts: Annotated[int, typer.Option(min=1)] = 8,
    backoff: Annotated[float, typer.Option(help="seconds before the first retry (doubling)")] = 2.0,
    heartbeat: Annotated[float, typer.Option(help="seconds after which a silent worker counts as dead")] = 15.0,
    until_idle: Annotated[bool, typer.Option(help="stop when nothing is queued or waiting for a retry")] = False,
) -> None:
    """Deliver queued notifications by Telegram and email, with retries and back-off."""
    from workbench.app.notify.service import channels_from_settings, default_worker_name, redis_from_url
    from workbench.app.notify.worker import WorkerOptions, run_worker

    settings = _settings()
    url = settings.redis_url or _connect().urls.redis_url
    opts = WorkerOptions(name=name or default_worker_name(), max_attempts=max_attempts, backoff=backoff,
                         heartbeat=heartbeat)
    stats = run_worker(redis_from_url(url), channels_from_settings(settings), opts, until_idle=until_idle,
                       log=lambda line: print(line, flush=True))
    out.print(f"delivered {stats.delivered}, retried {stats.retried}, failed {stats.dead}")


@notify_app.command("list")
def notify_list(
    user: Annotated[str | None, typer.Option(help="user name (default: WORKBENCH_USERNAME)")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 20,
) -> None:
    """A user's newest notifications."""
    import pandas as pd

    from workbench.app.notify import list_notifications, user_id_by_name
    from workbench.store.paper_keys import redis_client

    wb = _connect()
    client = redis_client(wb.cache)
    if client is None:
        raise WorkbenchError("notify list: notifications live in Redis, and the cache (Redis) is off")
    notes = list_notifications(client, wb.user_id if user is None else user_id_by_name(wb.db, user), limit)
    if not notes:
        out.print("no notifications")
        return
    frame = pd.DataFrame([{"time (UTC)": n.created[:19].replace("T", " "), "kind": n.kind, "text": n.text}
                          for n in notes])
    _show(_table(frame, "notifications"))


@notify_app.command("test")
def notify_test(
    user: Annotated[str | None, typer.Option(help="user name (default: WORKBENCH_USERNAME)")] = None,
) -> None:
    """Send a test notification to a user (their list, and Telegram/email as they chose)."""
    from workbench.app.notify import notify, user_id_by_name

    wb = _connect()
    uid = wb.user_id if user is None else user_id_by_name(wb.db, user)
    note = notify(wb, "test", "Test notification from the workbench.", user_id=uid)
    if note is None:
        raise WorkbenchError("notify test: the notification could not be stored (is Redis reachable?)")
    out.print(f"test notification {note.id}: list" + "".join(f", {q}" for q in note.queued))


def _known_secrets() -> list[str]:
    """Passwords of the configured URLs, masked in anything printed on failure."""
    import os
    import re

    found = []
    for name in ("WORKBENCH_DATABASE_URL", "WORKBENCH_REDIS_URL"):
        m = re.search(r":([^:@/\s]+)@", os.environ.get(name, ""))  # also in mistyped URLs
        if m:
            found.append(m.group(1))
    for name in ("WORKBENCH_SECRET_KEY", "WORKBENCH_TELEGRAM_BOT_TOKEN"):   # API-key encryption, Telegram bot
        if os.environ.get(name):
            found.append(os.environ[name])
    return found


def _command_path(args: list[str]) -> str:
    """``workbench paper`` for ``["paper", "--replay", "x"]``: the command the arguments name."""
    cmd: Any = typer.main.get_command(app)
    path = ["workbench"]
    for arg in args:
        cmd = getattr(cmd, "commands", {}).get(arg)
        if cmd is None:
            break
        path.append(arg)
    return " ".join(path)


def main() -> None:
    """Entry point: failures and misuse (a bad option value, a missing argument, an unknown option) print
    one ``error:`` line (``--debug``: the traceback too) and exit 1."""
    import signal

    flags = {f: f in sys.argv[1:] for f in ("--debug", "--keep-services")}
    for flag, given in flags.items():
        if given:
            sys.argv.remove(flag)
    debug = flags["--debug"]
    keep = flags["--keep-services"] or sys.argv[1:3] == ["services", "start"]

    def _terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, _terminate)  # like Ctrl-C: clean up what was started, then exit
    try:
        code = app(standalone_mode=False, prog_name="workbench")   # usage errors come here, not as a box
        sys.exit(code if isinstance(code, int) else 0)
    except SystemExit:
        raise
    except KeyboardInterrupt as err:
        console.print(f"[red]error:[/red] interrupted{f' ({err})' if str(err) else ''}")
        sys.exit(143 if str(err) == "SIGTERM" else 130)
    except BaseException as err:
        from workbench.cli.errors import describe_usage, usage_kind

        kind = usage_kind(err)
        if kind == "help":    # `workbench`, `workbench db`: the help, as asked (plain text: no rich)
            sys.stdout.write(err.ctx.get_help() + "\n")  # type: ignore[attr-defined]
            sys.exit(0)
        from rich.markup import escape

        from workbench.cli.errors import describe_failure
        from workbench.core.redact import mask_text

        if kind is not None:  # the command line itself is wrong (or a prompt was aborted)
            text = describe_usage(err, _command_path(sys.argv[1:])) if kind == "usage" else "aborted"
            console.print(f"[red]error:[/red] {escape(text)}", highlight=False, soft_wrap=True)
            sys.exit(1)
        if debug:
            import traceback

            console.print(escape(mask_text(traceback.format_exc(), *_known_secrets())), highlight=False)
        console.print(f"[red]error:[/red] {escape(describe_failure(err, *_known_secrets()))}", highlight=False,
                      soft_wrap=True)
        sys.exit(1)
    finally:
        _stop_started(keep)
