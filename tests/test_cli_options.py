"""The command line's composition: shared options declared once and given to commands as one value, the
global flags read anywhere on the command line, and the package's own rules (no environment read, small
modules). No database: nothing here connects."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from workbench.cli import app
from workbench.cli.context import CliContext
from workbench.cli.options import TRADING, TradingOptions

CLI_DIR = Path(__file__).resolve().parents[1] / "workbench" / "cli"

#: the risk and cost options as the user types them (before and after the split: the same)
TRADING_OPTIONS = [("risk_per_trade", ["--risk-per-trade-pct", "--risk-per-trade"], 2.0),
                   ("max_positions", ["--max-positions"], 5),
                   ("stop_loss", ["--stop-loss-pct", "--stop-loss"], 2.0),
                   ("take_profit", ["--take-profit-pct", "--take-profit"], 4.0),
                   ("capital", ["--capital"], 10_000_000.0),
                   ("fee", ["--fee-pct"], 0.25),
                   ("slippage", ["--slippage-pct"], 0.05),
                   ("yes_i_mean_it", ["--yes-i-mean-it"], False)]


def _params(*path: str) -> list[tuple[str, list[str], object]]:
    command = typer.main.get_command(app)
    for name in path:
        command = command.get_command(None, name)   # type: ignore[attr-defined]
    return [(p.name, list(p.opts), p.default) for p in command.params]


@pytest.mark.parametrize(("command", "before", "after"), [
    ("backtest", "param", "benchmark"), ("paper", "param", "exchange_rules")])
def test_the_trading_options_are_declared_once_and_given_in_place(command: str, before: str, after: str) -> None:
    params = _params(command)
    names = [p[0] for p in params]
    start = names.index(before) + 1
    assert params[start:start + len(TRADING_OPTIONS)] == TRADING_OPTIONS
    assert names[start + len(TRADING_OPTIONS)] == after
    assert "trading" not in names


def test_trading_options_turn_percent_into_the_engines_units() -> None:
    from workbench.core.backtest import BacktestConfig
    from workbench.core.strategies import Risk

    assert TradingOptions().risk() == Risk() and TradingOptions().config() == BacktestConfig()
    given = TRADING.build(risk_per_trade=1.5, max_positions=3, stop_loss=3.0, take_profit=7.5, capital=5e6,
                          fee=0.1, slippage=0.2, yes_i_mean_it=False)
    assert given == TradingOptions(1.5, 3, 3.0, 7.5, 5e6, 0.1, 0.2, False)
    assert given.risk() == Risk(risk_per_trade=1.5, max_positions=3, stop_loss_pct=3.0, take_profit_pct=7.5)
    config = given.config(risk_free_pct=3.5)
    assert (config.initial_capital, config.fee_rate, config.slippage, config.risk_free_rate) == (
        5e6, 0.001, 0.002, 0.035)


@pytest.mark.parametrize("args", [
    ["--debug", "--keep-services", "strategies"], ["strategies", "--keep-services", "--debug"],
    ["--keep-services", "strategies", "--debug"]])
def test_the_global_flags_are_read_anywhere(args: list[str]) -> None:
    run = CliContext()
    result = CliRunner().invoke(app, args, obj=run, env={"COLUMNS": "200"})
    assert (result.exit_code, run.debug, run.keep_services) == (0, True, True), result.output
    assert "EmaCross" in result.output


def test_without_global_flags_neither_is_set() -> None:
    run = CliContext()
    assert CliRunner().invoke(app, ["strategies"], obj=run).exit_code == 0
    assert (run.debug, run.keep_services) == (False, False)


def test_the_root_names_every_command_of_every_module() -> None:
    """The root loads a command's module on first use, from the names in workbench/cli/__init__.py: each
    module's commands are exactly the names given for it, and each of its groups is named there."""
    from workbench.cli import COMMAND_MODULES, GROUP_SOURCES
    from workbench.cli.base import App

    modules = sorted({*COMMAND_MODULES.values(), *(s.partition(":")[0] for s in GROUP_SOURCES.values())})
    for name in modules:
        module = importlib.import_module(name)
        given = {c for c, m in COMMAND_MODULES.items() if m == name}
        groups = {f"{name}:{attr}" for attr, value in vars(module).items() if isinstance(value, App)}
        if f"{name}:app" in GROUP_SOURCES.values():   # the module's app is a group (`workbench db ...`)
            assert given == set(), name
        else:
            assert set(typer.main.get_group(module.app).commands) == given, name
            groups.discard(f"{name}:app")
        assert groups == {s for s in GROUP_SOURCES.values() if s.startswith(f"{name}:")}, name
    assert sorted(GROUP_SOURCES) == ["db", "ingest", "notify", "runs", "secrets", "services", "users"]


def _reads_environment(tree: ast.AST) -> list[int]:
    return [node.lineno for node in ast.walk(tree)
            if (isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb"))
            or (isinstance(node, ast.Name) and node.id in ("environ", "getenv"))]


def test_the_command_line_reads_no_environment_variable_itself() -> None:
    """Settings (workbench/services/config.py) and workbench/services/environ.py read the environment."""
    found = {p.name: _reads_environment(ast.parse(p.read_text())) for p in sorted(CLI_DIR.glob("*.py"))}
    assert {name: lines for name, lines in found.items() if lines} == {}
    assert _reads_environment(ast.parse("import os\nos.environ.get('X')\n")) == [2]   # the check finds one


def test_every_cli_module_is_small() -> None:
    sizes = {p.name: len(p.read_text().splitlines()) for p in CLI_DIR.glob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 400} == {}
    assert len(sizes) >= 10
