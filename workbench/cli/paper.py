"""Paper trading commands: ``paper``, ``paper-runs`` and ``reconcile`` (a paper run against its backtest)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Final

import typer

from workbench.cli.base import App, checked
from workbench.cli.context import CliContext
from workbench.cli.options import (
    TRADING,
    LimitOpt,
    ParamOpt,
    StrategyFileOpt,
    SymbolsOpt,
    TimeframeOpt,
    TradingOptions,
    WideOpt,
    with_options,
)
from workbench.cli.params import name_values, value
from workbench.cli.research import build_strategy
from workbench.cli.tables import frame_table
from workbench.core import checks
from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.app.session import Workbench
    from workbench.core.strategies import Risk, Strategy

#: the commands, merged into the root
app = App()


def _paper_strategy(wb: Workbench, name: str, params: list[str] | None, strategy_file: str | None,
                    risk: Risk) -> Strategy:
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
            overrides = {k: value(v) for k, v in name_values(params, "--param").items()}
            return stored.with_params(**overrides) if overrides else stored
    return build_strategy(name, params, strategy_file, risk)


@app.command()
@with_options(TRADING)
def paper(
    ctx: typer.Context,
    strategy: Annotated[str, typer.Argument(help="stored strategy (id or name; its own risk settings) or a "
                                                 "built-in one")] = "",
    symbols: SymbolsOpt = "KRW-SYNBTC",
    timeframe: TimeframeOpt = "1h",
    replay: Annotated[tuple[str, str] | None, typer.Option(help="replay stored candles: START END")] = None,
    speed: Annotated[float | None, typer.Option(help="replay pace, x real time (default: as fast as possible)",
                                                callback=checked(checks.SPEED, "--speed"))] = None,
    resume: Annotated[int | None, typer.Option(help="continue paper run ID (STRATEGY is ignored)",
                                               callback=checked(checks.RECORD_ID, "--resume"))] = None,
    param: ParamOpt = None,
    trading: TradingOptions = TradingOptions(),   # noqa: B008 (replaced by its options: see with_options)
    exchange_rules: Annotated[bool, typer.Option(help="Bithumb tick sizes, 5,000 KRW minimum, quantity "
                                                      "precision, order-book fills")] = True,
    warmup: Annotated[int, typer.Option(help="live: bars before now that warm the indicators up",
                                        callback=checked(checks.WARMUP, "--warmup"))] = 200,
    poll_interval: Annotated[float | None, typer.Option(
        help="live: seconds between polls", callback=checked(checks.POLL_INTERVAL, "--poll-interval"))] = None,
    max_polls: Annotated[int | None, typer.Option(help="live: stop after this many polls",
                                                  callback=checked(checks.MAX_POLLS, "--max-polls"))] = None,
    strategy_file: StrategyFileOpt = None,
) -> None:
    """Paper-trade a strategy: live on Bithumb's public candles, or --replay START END of stored candles.

    Every signal, order and error is written to strategy_executions; orders, trades, positions and a
    portfolio row are kept current. Ctrl-C stops; --resume ID continues without repeating orders.
    """
    from workbench.core.paper.rules import OrderRules

    cli = CliContext.of(ctx)
    if resume is None and not strategy:
        raise WorkbenchError("give a STRATEGY (see `workbench strategies`) or --resume RUN_ID")
    # checked before anything is connected or written
    config = trading.config()
    risk = trading.risk()
    wb = cli.connect()
    try:
        if resume is not None:
            if replay is not None:
                raise WorkbenchError("--resume continues a run as it was started; do not combine it with --replay")
            outcome = wb.paper_resume(resume, progress=True, poll_interval=poll_interval, max_polls=max_polls)
        else:
            strat = _paper_strategy(wb, strategy, param, strategy_file, risk)
            rules = OrderRules() if exchange_rules else OrderRules.off()
            if replay is not None:
                outcome = wb.paper_replay(strat, symbols, timeframe, replay[0], replay[1], config=config,
                                          rules=rules, speed=speed, progress=True)
            else:
                outcome = wb.paper_live(strat, symbols, timeframe, config=config, rules=rules, warmup=warmup,
                                        poll_interval=poll_interval, max_polls=max_polls)
    except KeyboardInterrupt:
        cli.err.print("stopped; continue with `workbench paper --resume RUN_ID` (see `workbench paper-runs`)")
        raise typer.Exit(130) from None
    cli.out.print(str(outcome))
    cli.out.print(f"reconcile with the backtest: workbench reconcile {outcome.run_id}")


@app.command("paper-runs")
def paper_runs(ctx: typer.Context, limit: LimitOpt = 20, wide: WideOpt = False) -> None:
    """Paper runs, newest first."""
    cli = CliContext.of(ctx)
    df = cli.connect().paper_runs(limit=limit)
    if df.empty:
        cli.out.print("no paper runs")
        return
    frame = df[["id", "strategy", "mode", "symbols", "timeframe", "last_bar", "bars_processed", "fills", "status",
                "equity"]]
    cli.show(frame_table(frame, "paper runs", headers={"timeframe": "tf", "last_bar": "last bar",
                                                        "bars_processed": "bars"},
                         priority={"id": 9, "strategy": 8, "equity": 7, "status": 6, "symbols": 5, "mode": 4,
                                   "last_bar": 3, "fills": 2, "timeframe": 1}), wide)


#: headers of the reconcile tables (_p: paper, _b: backtest)
_RECONCILE_HEADERS: Final = {"entry_time": "entry", "size_p": "size paper", "size_b": "size backtest",
                             "entry_price_p": "entry paper", "entry_price_b": "entry backtest",
                             "exit_price_p": "exit paper", "exit_price_b": "exit backtest",
                             "pnl_difference": "PnL diff", "entry_price": "entry price", "exit_price": "exit price",
                             "pnl": "PnL"}


@app.command()
def reconcile(ctx: typer.Context,
              run: Annotated[int, typer.Argument(help="paper run id (see `workbench paper-runs`)",
                                                 callback=checked(checks.RECORD_ID, "RUN"))],
              wide: WideOpt = False) -> None:
    """Compare a paper run with the backtest of the same strategy, symbols, window and costs."""
    cli = CliContext.of(ctx)
    rec = cli.connect().reconcile(run)
    cli.out.print(str(rec))
    if len(rec.matched):
        cols = ["symbol", "entry_time", "size_p", "size_b", "entry_price_p", "entry_price_b", "exit_price_p",
                "exit_price_b", "pnl_difference"]
        diff = rec.matched[rec.matched["pnl_difference"].abs() > 1e-6][cols]
        if len(diff):
            cli.show(frame_table(diff.head(20), "matched trades that differ (first 20)", _RECONCILE_HEADERS,
                                 {"symbol": 9, "entry_time": 8, "pnl_difference": 7, "entry_price_p": 6,
                                  "entry_price_b": 6, "exit_price_p": 5, "exit_price_b": 5, "size_p": 4,
                                  "size_b": 4}), wide)
    for name, frame in (("extra trades (paper only)", rec.extra), ("missed trades (backtest only)", rec.missed)):
        if len(frame):
            cli.show(frame_table(frame[["symbol", "entry_time", "size", "entry_price", "exit_price", "pnl"]].head(20),
                                 name, _RECONCILE_HEADERS, {"symbol": 9, "entry_time": 8, "pnl": 7, "entry_price": 6,
                                                            "exit_price": 5, "size": 4}), wide)
