"""Every CLI command, every option and argument, hostile values: the answer is 0 or one ``error:`` line
with exit 1, never a traceback or "unexpected ...", and a command that fails has written no row.

The commands run in-process (typer's CliRunner) against the test database, which holds two days of the
sample data, so a value that passes every check goes on to do real work. A failure is rendered as the
entry point :func:`workbench.cli.main` renders it (``error: `` + :func:`describe_failure`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import typer
import typer.testing
from typer.testing import CliRunner

from workbench import cli
from workbench.app.session import Workbench
from workbench.cli.context import CliContext
from workbench.cli.errors import command_path, describe_failure, describe_usage, usage_kind

HOSTILE = ["", "ünï∂ødé-✓", "9" * 400, "-1", "nan", "inf", "1e400", "../../../etc/passwd",
           "x'; DROP TABLE candles; --"]

#: valid arguments and options each command needs besides the one being varied (replaced when its own
#: parameter is the one under test)
BASE: dict[str, tuple[list[str], list[str]]] = {
    "quality": (["KRW-SYNBTC"], []),
    "indicators": (["KRW-SYNBTC"], []),
    "import-csv": (["{csv}"], ["--symbol", "KRW-CSV", "--timeframe", "1m"]),
    "backtest": (["EmaCross"], []),
    "sweep": (["EmaCross"], ["--grid", "fast=3,5"]),
    "optimize": (["EmaCross"], ["--space", "fast=3:6", "--trials", "2"]),
    "walk-forward": (["EmaCross"], ["--grid", "fast=3,5", "--folds", "2"]),
    "rerun": (["1"], []),
    "reconcile": (["1"], []),
    "report": (["strategy_backtest"], []),
    "paper": (["EmaCross"], ["--replay", "2025-01-01", "2025-01-02"]),
    "ingest candles": (["KRW-BTC"], []),
    "ingest trades": (["KRW-BTC"], []),
    "ingest orderbooks": (["KRW-BTC"], []),
}
#: parameters not varied, and why
SKIP = {
    # a directory of the user's choice (any string is a valid path); each run would execute a notebook
    ("report", "output_dir"),
}
#: multi-valued name=value options also get the hostile value as a parameter's value
NAME_VALUE = {"param": "fast", "grid": "fast", "space": "fast"}


def _commands(group: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(name, command) of every command, sub-commands of groups (``db init``) included."""
    for name in sorted(group.list_commands(None)):
        command = group.get_command(None, name)   # the root loads a command's module on first use
        if hasattr(command, "commands"):
            yield from _commands(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", command


def _is_argument(param: Any) -> bool:
    return param.param_type_name == "argument"


def _with(command: Any, base: tuple[list[str], list[str]], param: Any, values: list[str]) -> list[str]:
    """The base arguments and options with ``param`` given ``values``."""
    positional, options = list(base[0]), list(base[1])
    if _is_argument(param):
        k = [p for p in command.params if _is_argument(p)].index(param)
        positional = [*positional[:k], *values, *positional[k + 1:]]
    else:
        opt = param.opts[0]
        if opt in options:
            i = options.index(opt)
            del options[i:i + 1 + max(param.nargs, 1)]
        options += [opt, *values]
    return [*positional, *options]


def _cases(command_name: str, command: Any, csv: Path) -> Iterator[list[str]]:
    given = BASE.get(command_name, ([], []))
    base = ([a.replace("{csv}", str(csv)) for a in given[0]], given[1])
    for param in command.params:
        if not param.name or (command_name, param.name) in SKIP:
            continue
        if not _is_argument(param) and (param.is_flag or param.is_bool_flag or param.hidden):
            continue
        for value in HOSTILE:
            values = [value] * max(param.nargs, 1)
            yield [*command_name.split(), *_with(command, base, param, values)]
            if param.name in NAME_VALUE:
                yield [*command_name.split(), *_with(command, base, param, [f"{NAME_VALUE[param.name]}={value}"])]


def _row_counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        tables = conn.execute(sa.text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
            "AND table_type = 'BASE TABLE' ORDER BY 1")).scalars().all()
        counts = conn.execute(sa.text("SELECT " + ", ".join(
            f'(SELECT count(*) FROM public."{t}")' for t in tables))).one()
    return dict(zip(tables, counts, strict=True))


def _check(runner: CliRunner, command: Any, args: list[str], engine: sa.Engine, run: Any) -> list[str]:
    """Run ``workbench ARGS`` (``command``: the app's click group) in the context ``run()`` makes; what is
    wrong with how it answered (nothing: an empty list)."""
    before = _row_counts(engine)
    result = runner.invoke(cli.app, args, standalone_mode=False, obj=run())   # as main() runs it: usage errors raise
    error = result.exception
    if error is not None and not isinstance(error, SystemExit):
        kind = usage_kind(error)
        if kind == "help":
            line, code = "", 0
        elif kind is not None:   # main() prints these as one line and exits 1
            line, code = "error: " + (describe_usage(error, command_path(command, args))
                                      if kind == "usage" else "aborted"), 1
        else:
            line, code = "error: " + describe_failure(error), 1
    else:
        line, code = "", result.exit_code
    shown = "workbench " + " ".join(repr(a) if not a or " " in a else a for a in args)[:300]
    problems = []
    if code not in (0, 1):
        problems.append(f"{shown}: exit {code}")
    if "Traceback" in result.output + line:
        problems.append(f"{shown}: traceback")
    if code == 1:
        if "\n" in line.strip():
            problems.append(f"{shown}: error of several lines: {line!r}")
        if "unexpected" in line:
            problems.append(f"{shown}: {line[:300]}")
        after = _row_counts(engine)
        changed = {t: (before[t], after.get(t)) for t in before if before[t] != after.get(t)}
        if changed or set(after) != set(before):
            problems.append(f"{shown}: failed ({line[:150]}) but wrote rows: {changed}")
    return problems


def test_every_command_refuses_hostile_values_in_one_line(cli_env: dict[str, str], session: Workbench,
                                                          database_url: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import dask

    from workbench.ingest.bithumb import BithumbClient
    from workbench.services.embedded import free_port

    # Bithumb unreachable, without retries: an ingest that gets past its checks fails at once, in one line;
    # every command gets the test's connected workbench (same database and Redis) instead of connecting
    # anew, which would take most of the time of the ~1,000 runs; the commands themselves run unchanged
    base_url = f"http://127.0.0.1:{free_port()}"

    def run() -> CliContext:
        return CliContext(connector=lambda **options: session,
                          client_factory=lambda: BithumbClient(base_url=base_url, max_retries=0))

    monkeypatch.setenv("COLUMNS", "200")
    # typer builds the click command anew on every invoke (a quarter of a second): build it once
    command = typer.main.get_command(cli.app)
    if hasattr(typer.testing, "_get_command"):
        monkeypatch.setattr(typer.testing, "_get_command", lambda app: command)
    runner = CliRunner()
    for setup in (["sample", "--days", "2"], ["backtest", "EmaCross"]):
        assert runner.invoke(cli.app, setup, catch_exceptions=False, obj=run()).exit_code == 0
    csv = tmp_path / "c.csv"
    csv.write_text("timestamp,open,high,low,close,volume\n2025-05-01T00:00:00Z,1,2,0.5,1.5,1\n")
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    problems: list[str] = []
    runs = 0
    try:
        # an address given to --scheduler that answers nothing fails in seconds, not after dask's 30 s;
        # distributed imported first: a dask.config.set of a key its defaults do not hold yet would, on exit,
        # delete the whole "distributed" section those defaults add in between (later tests need it)
        import distributed  # noqa: F401

        with dask.config.set({"distributed.comm.timeouts.connect": "3s"}):
            for name, sub in _commands(command):
                for args in _cases(name, sub, csv):
                    t0 = time.perf_counter()
                    problems += _check(runner, command, args, engine, run)
                    runs += 1
                    if os.environ.get("HOSTILE_TIMES") and time.perf_counter() - t0 > 0.5:
                        print(f"{time.perf_counter() - t0:6.1f}s {args}")
    finally:
        engine.dispose()
    assert runs > 850   # every command's every option was tried
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("args, expected", [
    (["sample", "--days", "0"], "error: --days must be a whole number >= 1 and <= 3650 days (got 0)"),
    (["backtest", "EmaCross", "--capital", "inf"],
     "error: --capital must be a finite number > 0 and <= 1e+15 KRW (got inf)"),
    (["backtest", "EmaCross", "--capital", "1e308"],
     "error: --capital must be a finite number > 0 and <= 1e+15 KRW (got 1e+308)"),
    (["paper", "EmaCross", "--speed", "1e-300", "--replay", "2025-01-01", "2025-01-02"],
     "error: --speed must be a finite number >= 0.001 and <= 1e+06 x real time (got 1e-300)"),
    (["backtest", "EmaCross", "--param", "fast=1e400"],
     "error: EmaCross: parameter 'fast' must be a whole number >= 1 and <= 1000000 bars (got inf)"),
    (["report", "../../etc/passwd"],
     "error: notebook '../../etc/passwd' is not a notebook name: give the name of a report notebook "
     "(data_exploration, optuna_study, parameter_sweep, reconciliation, run_comparison, strategy_backtest); "
     "to run your own, put it in a directory and set WORKBENCH_NOTEBOOKS_DIR to it"),
])
def test_the_entry_point_prints_one_line_and_exits_1(args: list[str], expected: str, tmp_path: Path) -> None:
    """Through ``main()`` in a fresh process, as a user runs it: checked before any server is reached
    (the database URL points at a closed port), one line on stderr, nothing on stdout."""
    import subprocess
    import sys

    from workbench.services.embedded import free_port

    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env.update({"WORKBENCH_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/none",
                "WORKBENCH_CACHE_ENABLED": "false", "WORKBENCH_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "400"})
    proc = subprocess.run([sys.executable, "-c", "from workbench.cli import main; main()", *args],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", expected + "\n")
