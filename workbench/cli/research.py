"""Research commands: ``indicators``, ``backtest``, ``sweep``, ``optimize``, ``walk-forward``,
``check``, ``rerun`` and the ``runs`` group (stored runs)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from workbench.cli.base import App, checked
from workbench.cli.context import CliContext
from workbench.cli.options import (
    TRADING,
    BenchmarkOpt,
    EndOpt,
    GridOpt,
    LimitOpt,
    MetricOpt,
    ParamOpt,
    RecordIdArg,
    RiskFreeOpt,
    SchedulerOpt,
    StartOpt,
    StrategyArg,
    StrategyFileOpt,
    SymbolsOpt,
    TimeframeOpt,
    TradingOptions,
    WideOpt,
    with_options,
)
from workbench.cli.params import grid as parse_grid
from workbench.cli.params import name_values, value
from workbench.cli.tables import (
    SHORT_HEADERS,
    cell,
    fold_headers,
    frame_table,
    metrics_table,
    params_text,
    period_text,
)
from workbench.core import checks
from workbench.errors import WorkbenchError
from workbench.present.formatting import metric_title

if TYPE_CHECKING:
    from workbench.core.strategies import Risk, Strategy

#: the commands, merged into the root: ``workbench backtest`` ...
app = App()
runs_app = App(help="Stored backtest runs (yours and shared).", no_args_is_help=False, invoke_without_command=True)


def build_strategy(name: str, params: list[str] | None = None, strategy_file: str | None = None,
                  risk: Risk | None = None) -> Strategy:
    """Strategy ``name`` (built-in, entry point, ``file.py:Name``, or in ``--strategy-file``) with ``--param``
    overrides and ``risk`` (Risk's defaults if None)."""
    from workbench.core.strategies import Risk, make_strategy

    return make_strategy(name, strategy_file=strategy_file, risk=risk or Risk(),
                         **{k: value(v) for k, v in name_values(params, "--param").items()})


@app.command()
def indicators(
    ctx: typer.Context,
    symbols: Annotated[str, typer.Argument(help="comma-separated symbols")],
    timeframe: TimeframeOpt = "1h",
    start: StartOpt = None,
    end: EndOpt = None,
) -> None:
    """Compute the technical indicators of stored candles and store them."""
    from tqdm.auto import tqdm

    from workbench.app.research import symbol_list
    from workbench.store.indicator_store import compute_and_store_indicators

    cli = CliContext.of(ctx)
    names = symbol_list(symbols)
    wb = cli.connect()
    for sym in names:   # every symbol has candles (else DataNotFoundError) before any indicator is stored
        wb.candles(sym, timeframe, start, end)
    for sym in tqdm(names, desc="indicators", unit="symbol"):
        run = compute_and_store_indicators(wb.db, sym, timeframe, start, end, cache=wb.cache)
        cli.out.print(f"{sym} {timeframe}: {run.indicators}"
                      + (f"; candle columns: {run.candle_columns}" if run.candle_columns else ""))


@app.command()
@with_options(TRADING)
def backtest(
    ctx: typer.Context,
    strategy: StrategyArg,
    symbols: SymbolsOpt = "KRW-SYNBTC",
    timeframe: TimeframeOpt = "1h",
    start: StartOpt = None,
    end: EndOpt = None,
    param: ParamOpt = None,
    trading: TradingOptions = TradingOptions(),   # noqa: B008 (replaced by its options: see with_options)
    benchmark: BenchmarkOpt = "equal-weight",
    risk_free: RiskFreeOpt = 0.0,
    store: Annotated[bool, typer.Option(help="store the run in backtest_results")] = True,
    strategy_file: StrategyFileOpt = None,
) -> None:
    """Backtest a strategy on stored candles and store the result."""
    cli = CliContext.of(ctx)
    strat = build_strategy(strategy, param, strategy_file, trading.risk())
    config = trading.config(risk_free)
    run = cli.connect().backtest(strat, symbols, timeframe, start, end, config=config, store=store,
                                 benchmark=benchmark, risk_free_rate=config.risk_free_rate)
    cli.show(metrics_table(run.result, str(strat)), wide_option=False)
    if run.backtest_id is not None:
        cli.out.print(f"stored as backtest_results.id {run.backtest_id} (run {run.run_id})")


@app.command()
def sweep(
    ctx: typer.Context,
    strategy: StrategyArg,
    grid: GridOpt = None,
    symbols: SymbolsOpt = "KRW-SYNBTC",
    timeframe: TimeframeOpt = "1h",
    start: StartOpt = None,
    end: EndOpt = None,
    chunk_size: Annotated[int, typer.Option(help="combinations per engine call / Dask task (memory bound)",
                                            callback=checked(checks.CHUNK_SIZE, "--chunk-size"))] = 8,
    store: Annotated[bool, typer.Option()] = True,
    sweep_id: Annotated[str | None, typer.Option(help="resume this sweep: skip the combinations it stored")] = None,
    dask: Annotated[bool, typer.Option(help="run on Dask: WORKBENCH_DASK_ADDRESS, else a local cluster")] = False,
    scheduler: SchedulerOpt = None,
    per_symbol: Annotated[bool, typer.Option(help="each symbol its own sweep (Dask tasks symbol x chunk)")] = False,
    strategy_file: StrategyFileOpt = None,
    wide: WideOpt = False,
) -> None:
    """Grid sweep of a strategy's parameters; every combination is stored."""
    cli = CliContext.of(ctx)
    values = parse_grid(grid)
    extra: dict[str, Any] = {"dask": True, "scheduler": scheduler, "per_symbol": per_symbol} if (
        dask or scheduler or per_symbol) else {}
    strat = build_strategy(strategy, None, strategy_file)
    outcome = cli.connect().sweep(strat, values, symbols, timeframe, start, end, chunk_size=chunk_size,
                                  store=store, sweep_id=sweep_id, **extra)
    if outcome.table.attrs.get("resumed"):
        cli.out.print(f"resumed sweep {outcome.sweep_id}: {outcome.table.attrs['resumed']} combinations were stored")
    cols = [*(["symbol"] if per_symbol else []), *values, "total_return", "sharpe_ratio", "max_drawdown",
            "total_trades", "backtest_id"]
    table = outcome.table.sort_values("sharpe_ratio", ascending=False)[cols]
    cli.show(frame_table(table, f"sweep {outcome.sweep_id}, best {metric_title('sharpe_ratio')} first",
                         SHORT_HEADERS, {"symbol": 5, **dict.fromkeys(values, 4), "sharpe_ratio": 4,
                                         "total_return": 3, "max_drawdown": 2, "total_trades": 1}), wide)
    if outcome.overfitting is not None:
        cli.out.print(outcome.overfitting.describe())
    for combo, why in outcome.skipped:
        cli.err.print(f"skipped {combo}: {why}")


@app.command()
def optimize(
    ctx: typer.Context,
    strategy: StrategyArg,
    space: Annotated[list[str] | None, typer.Option(
        "--space", help="parameter range: name=low:high[:step|:log] or name=a,b,c")] = None,
    trials: Annotated[int, typer.Option(help="the study's total number of trials",
                                        callback=checked(checks.TRIALS, "--trials"))] = 50,
    metric: MetricOpt = "sharpe_ratio",
    study: Annotated[str | None, typer.Option(help="study name: resumes the study if it exists")] = None,
    symbols: SymbolsOpt = "KRW-SYNBTC",
    timeframe: TimeframeOpt = "1h",
    start: StartOpt = None,
    end: EndOpt = None,
    folds: Annotated[int, typer.Option(help="walk-forward folds of the search range (pruning steps)",
                                       callback=checked(checks.FOLDS, "--folds"))] = 3,
    holdout: Annotated[float, typer.Option(help="share of the data kept out of the search",
                                           callback=checked(checks.FRACTION, "--holdout"))] = 0.3,
    seed: Annotated[int | None, typer.Option(callback=checked(checks.SEED, "--seed"))] = None,
    strategy_file: StrategyFileOpt = None,
) -> None:
    """Optuna (TPE) search of a strategy's parameters, stored in PostgreSQL and resumable."""
    import pandas as pd

    cli = CliContext.of(ctx)
    if not space:
        raise WorkbenchError("give at least one --space name=low:high (or name=a,b,c)")
    strat = build_strategy(strategy, None, strategy_file)
    res = cli.connect().optimize(strat, space, symbols, timeframe, start, end, n_trials=trials,
                                 metric=metric, study_name=study, n_folds=folds, holdout=holdout, seed=seed)
    higher = res.study.direction.name == "MAXIMIZE"
    top = res.trials[res.trials["state"] == "COMPLETE"].sort_values("value", ascending=not higher).head(10)
    top = top[["number", "value", *[c for c in top if str(c).startswith("params_")]]]
    top = top.rename(columns=lambda c: str(c).removeprefix("params_"))
    cli.show(frame_table(top, f"study {res.study_name}: best trials by {metric_title(metric)}",
                         {"value": metric_title(metric)}), wide_option=False)
    summary = res.summary()
    cli.show(frame_table(pd.DataFrame({"": list(summary.index),
                                       "value": [cell(str(k), v) for k, v in summary.items()]}),
                         "search summary"), wide_option=False)
    if res.overfitting is not None:
        cli.out.print(res.overfitting.describe())
    cli.out.print(f"stored: in-sample run {res.in_sample.backtest_id}, out-of-sample run "
                  f"{None if res.out_of_sample is None else res.out_of_sample.backtest_id} (sweep {res.sweep_id})")


@app.command("walk-forward")
def walk_forward_cmd(
    ctx: typer.Context,
    strategy: StrategyArg,
    grid: GridOpt = None,
    symbols: SymbolsOpt = "KRW-SYNBTC",
    timeframe: TimeframeOpt = "1h",
    start: StartOpt = None,
    end: EndOpt = None,
    mode: Annotated[str, typer.Option(help="rolling (train on the last --train-bars) or anchored (train on "
                                           "all bars before each test window)")] = "rolling",
    folds: Annotated[int | None, typer.Option(help="out-of-sample windows (default 4, or what --train-bars "
                                                   "and --test-bars leave)",
                                              callback=checked(checks.FOLDS, "--folds"))] = None,
    train_bars: Annotated[int | None, typer.Option(help="bars of the first training window",
                                                   callback=checked(checks.PERIOD, "--train-bars"))] = None,
    test_bars: Annotated[int | None, typer.Option(help="bars per out-of-sample window (the last one also takes "
                                                       "the remainder)",
                                                  callback=checked(checks.PERIOD, "--test-bars"))] = None,
    train_fraction: Annotated[float | None, typer.Option(help="without bar counts: training share of each "
                                                              "rolling window, fraction (default 0.7)",
                                                      callback=checked(checks.FRACTION, "--train-fraction"))] = None,
    metric: MetricOpt = "sharpe_ratio",
    dask: Annotated[bool, typer.Option(help="one Dask task per fold: WORKBENCH_DASK_ADDRESS, else local")] = False,
    scheduler: SchedulerOpt = None,
    strategy_file: StrategyFileOpt = None,
    wide: WideOpt = False,
) -> None:
    """Walk-forward test: out-of-sample windows tile the history after the first training window; each
    fold picks parameters on its training bars and tests them on its window."""
    from workbench.present.walkforward import fold_columns, walk_forward_summary

    cli = CliContext.of(ctx)
    extra: dict[str, Any] = {"dask": True, "scheduler": scheduler} if (dask or scheduler) else {}
    strat = build_strategy(strategy, None, strategy_file)
    wf = cli.connect().walk_forward(strat, parse_grid(grid), symbols, timeframe, start, end, mode=mode,
                                    n_folds=folds, train_bars=train_bars, test_bars=test_bars,
                                    train_fraction=train_fraction, metric=metric, **extra)
    cli.show(frame_table(fold_columns(wf.folds, wf.metric), f"walk-forward folds, {wf.mode} (periods in KST; is = "
                         "in sample, oos = out of sample)", fold_headers(wf.metric),
                         {"fold": 9, "test period": 8, "parameters": 7, f"oos_{wf.metric}": 6, "oos_total_return": 5,
                          f"is_{wf.metric}": 4, "oos_max_drawdown": 3, "train period": 2, "oos_total_trades": 1}),
             wide)
    summary = walk_forward_summary(wf)
    cli.show(frame_table(summary.rename(columns={"figure": ""}), "walk-forward summary (stitched out-of-sample "
                         "curve)"), wide)


@app.command()
def check(
    ctx: typer.Context,
    strategy: StrategyArg,
    symbol: Annotated[str, typer.Option(help="the symbol whose stored candles are used")] = "KRW-SYNBTC",
    timeframe: TimeframeOpt = "1h",
    start: StartOpt = None,
    end: EndOpt = None,
    param: ParamOpt = None,
    strategy_file: StrategyFileOpt = None,
    cuts: Annotated[int, typer.Option(help="cut points of the lookahead check")] = 30,
    tolerance: Annotated[float, typer.Option(help="relative difference under which a value has settled")] = 1e-6,
) -> None:
    """Lookahead and warm-up gate: recompute the strategy on data cut at many points (a changed past value
    is a leak: exit 1) and on data started later (bars each series needs to settle)."""
    from workbench.core.strategies import check_strategy
    from workbench.present.formatting import format_pct_small

    cli = CliContext.of(ctx)
    strat = build_strategy(strategy, param, strategy_file)
    report = check_strategy(strat, cli.connect().candles(symbol, timeframe, start, end), cuts=cuts,
                            tolerance=tolerance)
    cli.show(frame_table(report.lookahead_table(), f"lookahead of {strat.name} on {symbol} {timeframe}"),
             wide_option=False)
    cli.show(frame_table(report.warmup_table(), f"warm-up: bars to settle within {format_pct_small(tolerance)}, "
                         "largest relative difference left after N bars"), wide_option=False)
    cli.out.print(report.verdict(), soft_wrap=True)
    if not report.passed:
        raise typer.Exit(1)


@app.command()
def rerun(ctx: typer.Context, backtest_id: RecordIdArg) -> None:
    """Re-execute a stored run from its manifest and report whether it reproduces bit for bit.

    Exit status 0 when data, equity, trades and metrics are identical, 1 otherwise. Stores nothing.
    """
    cli = CliContext.of(ctx)
    report = cli.connect().rerun(backtest_id)
    cli.show(frame_table(report.table(), f"re-run of backtest {backtest_id}"), wide_option=False)
    if report.reproduced:
        cli.out.print(f"backtest {backtest_id} reproduced bit for bit")
        return
    cli.err.print(f"[red]backtest {backtest_id} did NOT reproduce[/red]: "
                  + ", ".join(c.name for c in report.checks if c.name in ("data", "equity", "trades", "metrics")
                              and c.ok is not True) + " differ")
    raise typer.Exit(1)


@runs_app.callback()
def runs(ctx: typer.Context, limit: LimitOpt = 20, wide: WideOpt = False) -> None:
    """Stored backtest runs, newest first: yours (WORKBENCH_USERNAME) and those shared with you."""
    import pandas as pd

    if ctx.invoked_subcommand is not None:
        return
    cli = CliContext.of(ctx)
    df = cli.connect(need_redis=False).runs(limit=limit)
    if df.empty:
        cli.out.print("no stored runs")
        return
    frame = pd.DataFrame({
        "id": df["id"], "strategy": df["strategy"],
        "parameters": [params_text((p or {}).get("params")) for p in df["parameters"]],
        "symbol": df["symbol"], "tf": df["timeframe"],
        "period (KST)": [period_text(a, b) for a, b in zip(df["start_date"], df["end_date"], strict=True)],
        "total_return": df["total_return"], "sharpe_ratio": df["sharpe_ratio"], "max_drawdown": df["max_drawdown"],
        "total_trades": df["total_trades"],
        "split": df["split"].fillna("–").replace({"out_of_sample": "oos"}),
    })
    cli.show(frame_table(frame, "backtest runs, newest first", SHORT_HEADERS,
                         {"id": 9, "strategy": 8, "total_return": 7, "parameters": 6, "symbol": 5, "sharpe_ratio": 5,
                          "period (KST)": 4, "max_drawdown": 3, "tf": 2, "total_trades": 2, "split": 1}), wide)


@runs_app.command("share")
def runs_share(
    ctx: typer.Context,
    backtest_id: Annotated[int, typer.Argument(help="id of one of your runs (see `workbench runs`)")],
    with_user: Annotated[str, typer.Option("--with", help="the user to share it with")],
) -> None:
    """Let another user see one of your runs (in `workbench runs` and the portal)."""
    from workbench.app.accounts import share_run

    cli = CliContext.of(ctx)
    wb = cli.connect(need_redis=False)
    share_run(wb.db, backtest_id, owner_id=wb.user_id, username=with_user)
    cli.out.print(f"backtest {backtest_id} shared with {with_user}")
