"""Every option shared by several commands, declared once; commands compose them.

A shared option is a typed alias (``SymbolsOpt``, ``TimeframeOpt`` ...; the default is given where a command
uses it). Options that travel together form an :class:`OptionGroup`: :func:`with_options` gives a command
the group's options and hands it ONE value built from them, e.g. the risk and cost options of ``backtest``
and ``paper`` arrive as one :class:`TradingOptions` (checked and turned into the library's units there).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer

from workbench.cli.base import checked
from workbench.core import checks

if TYPE_CHECKING:
    from workbench.core.backtest import BacktestConfig
    from workbench.core.strategies import Risk

__all__ = ["CONFIG_DEFAULTS", "FEE_PCT_DEFAULT", "RISK_DEFAULTS", "SLIPPAGE_PCT_DEFAULT", "TRADING", "OptionGroup",
           "TradingOptions", "with_options"]

# ---------------------------------------------------------------- data and output
SymbolsOpt = Annotated[str, typer.Option(help="comma-separated symbols")]
TimeframeOpt = Annotated[str, typer.Option()]
StartOpt = Annotated[str | None, typer.Option()]
EndOpt = Annotated[str | None, typer.Option()]
WideOpt = Annotated[bool, typer.Option("--wide", help="show every column, however wide the table gets")]
LimitOpt = Annotated[int, typer.Option(callback=checked(checks.LIMIT, "--limit"))]
RecordIdArg = Annotated[int, typer.Argument(help="id of a stored run (see `workbench runs`)",
                                            callback=checked(checks.RECORD_ID, "BACKTEST_ID"))]

# ---------------------------------------------------------------- strategies and their parameters
StrategyArg = Annotated[str, typer.Argument(help="strategy: built-in or entry point (see `workbench strategies`), "
                                                 "or a user's file.py:Name")]
StrategyFileOpt = Annotated[str | None, typer.Option("--strategy-file", help="a .py file defining STRATEGY")]
ParamOpt = Annotated[list[str] | None, typer.Option("--param", help="strategy parameter name=value")]
GridOpt = Annotated[list[str] | None, typer.Option("--grid", help="parameter values, name=v1,v2,v3")]
MetricOpt = Annotated[str, typer.Option()]
SchedulerOpt = Annotated[str | None, typer.Option(help="Dask scheduler address (implies --dask)")]

# ---------------------------------------------------------------- backtest results
BenchmarkOpt = Annotated[str, typer.Option(help="compare with: equal-weight (buy & hold of the traded symbols), "
                                                "a symbol's buy & hold (e.g. KRW-BTC) or none")]
RiskFreeOpt = Annotated[float, typer.Option("--risk-free-pct", help="annual risk-free rate for Sharpe/Sortino/"
                                                                    "alpha, percent (3.5 = 3.5 %)")]

# ---------------------------------------------------------------- risk and costs (every rate and share in percent,
# and says so in its name)
RiskPerTradeOpt = Annotated[float, typer.Option("--risk-per-trade-pct", "--risk-per-trade",
                                                help="equity risked per trade, percent (2 = 2 %)")]
MaxPositionsOpt = Annotated[int, typer.Option(callback=checked(checks.MAX_POSITIONS, "--max-positions"))]
StopLossOpt = Annotated[float, typer.Option("--stop-loss-pct", "--stop-loss",
                                            help="stop loss below the entry, percent (2 = 2 %; 0 = none)")]
TakeProfitOpt = Annotated[float, typer.Option("--take-profit-pct", "--take-profit",
                                              help="take profit above the entry, percent (4 = 4 %; 0 = none)")]
CapitalOpt = Annotated[float, typer.Option(help="initial capital, KRW", callback=checked(checks.CAPITAL, "--capital"))]
FeeOpt = Annotated[float, typer.Option("--fee-pct", help="fee per side, percent (0.25 = 0.25 %)")]
SlippageOpt = Annotated[float, typer.Option("--slippage-pct", help="slippage per side, percent (0.05 = 0.05 %; "
                                                                   "5 or more needs --yes-i-mean-it)")]
ConfirmOpt = Annotated[bool, typer.Option("--yes-i-mean-it", help="accept a slippage of 5 % or more, or a stop "
                                                                  "loss / take profit below 0.1 %")]

#: the defaults of the risk and cost options: Risk's and BacktestConfig's own (written here so that ``--help``
#: needs no import of the engine; tests/test_cli.py checks they are the same)
RISK_DEFAULTS: Final[dict[str, float]] = {"risk_per_trade": 2.0, "max_positions": 5, "stop_loss_pct": 2.0,
                                          "take_profit_pct": 4.0}
CONFIG_DEFAULTS: Final[dict[str, float]] = {"initial_capital": 10_000_000.0, "fee_rate": 0.0025, "slippage": 0.0005}
#: the cost options' defaults, in percent
FEE_PCT_DEFAULT: Final = 0.25
SLIPPAGE_PCT_DEFAULT: Final = 0.05


@dataclass(frozen=True)
class TradingOptions:
    """The risk and cost options of a run, as given (percent): ``--risk-per-trade-pct``, ``--max-positions``,
    ``--stop-loss-pct``, ``--take-profit-pct``, ``--capital``, ``--fee-pct``, ``--slippage-pct`` and
    ``--yes-i-mean-it`` (see :mod:`workbench.cli.units` for their ranges)."""

    risk_per_trade: float = RISK_DEFAULTS["risk_per_trade"]
    max_positions: int = int(RISK_DEFAULTS["max_positions"])
    stop_loss: float = RISK_DEFAULTS["stop_loss_pct"]
    take_profit: float = RISK_DEFAULTS["take_profit_pct"]
    capital: float = CONFIG_DEFAULTS["initial_capital"]
    fee: float = FEE_PCT_DEFAULT
    slippage: float = SLIPPAGE_PCT_DEFAULT
    yes_i_mean_it: bool = False

    def risk(self) -> Risk:
        """The strategy's :class:`~workbench.core.strategies.Risk`, each percent option checked by
        :func:`workbench.cli.units.check_pct`."""
        from workbench.cli.units import check_pct
        from workbench.core.strategies import Risk

        return Risk(risk_per_trade=check_pct("--risk-per-trade-pct", self.risk_per_trade),
                    max_positions=self.max_positions,
                    stop_loss_pct=check_pct("--stop-loss-pct", self.stop_loss, confirmed=self.yes_i_mean_it),
                    take_profit_pct=check_pct("--take-profit-pct", self.take_profit, confirmed=self.yes_i_mean_it))

    def config(self, risk_free_pct: float = 0.0) -> BacktestConfig:
        """The :class:`~workbench.core.backtest.BacktestConfig` of the cost options (checked by
        :func:`workbench.cli.units.fractions_from_pct`) and an annual risk-free rate in percent."""
        from workbench.cli.units import fractions_from_pct
        from workbench.core.backtest import BacktestConfig

        f = fractions_from_pct(fee_pct=self.fee, slippage_pct=self.slippage, risk_free_pct=risk_free_pct,
                               confirmed=self.yes_i_mean_it)
        return BacktestConfig(initial_capital=self.capital, fee_rate=f["fee_rate"], slippage=f["slippage"],
                              risk_free_rate=f["risk_free_rate"])


def _option(name: str, alias: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=alias, default=default)


@dataclass(frozen=True)
class OptionGroup:
    """Options declared once that a command receives as one value: its parameter ``name`` (annotated with the
    group's type) gets ``build(**option values)``."""

    name: str
    options: tuple[inspect.Parameter, ...]
    build: Callable[..., Any]


#: ``backtest`` and ``paper``: the risk and cost options, as one :class:`TradingOptions` named ``trading``
TRADING: Final = OptionGroup("trading", (
    _option("risk_per_trade", RiskPerTradeOpt, TradingOptions.risk_per_trade),
    _option("max_positions", MaxPositionsOpt, TradingOptions.max_positions),
    _option("stop_loss", StopLossOpt, TradingOptions.stop_loss),
    _option("take_profit", TakeProfitOpt, TradingOptions.take_profit),
    _option("capital", CapitalOpt, TradingOptions.capital),
    _option("fee", FeeOpt, TradingOptions.fee),
    _option("slippage", SlippageOpt, TradingOptions.slippage),
    _option("yes_i_mean_it", ConfirmOpt, TradingOptions.yes_i_mean_it),
), TradingOptions)


def with_options(*groups: OptionGroup) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A command decorator (below ``@app.command()``): each group's options take the place of the command's
    parameter of the group's name, in ``--help`` as on the command line, and the command is called with the
    group's value built from them."""

    def decorate(func: Callable[..., None]) -> Callable[..., None]:
        by_name = {g.name: g for g in groups}
        own = inspect.signature(func, eval_str=True).parameters.values()
        missing = set(by_name) - {p.name for p in own}
        if missing:
            raise TypeError(f"{func.__name__} has no parameter {sorted(missing)} for its option groups")
        params = [q for p in own for q in (by_name[p.name].options if p.name in by_name else
                                           (p.replace(kind=inspect.Parameter.KEYWORD_ONLY),))]

        @functools.wraps(func)
        def command(**values: Any) -> None:
            for g in groups:
                values[g.name] = g.build(**{p.name: values.pop(p.name) for p in g.options})
            func(**values)

        command.__signature__ = inspect.Signature(params, return_annotation=None)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        del command.__wrapped__  # typer reads the signature above, not func's
        return command

    return decorate
