"""Misuse of the command line (typer/click usage errors: a bad option value, a missing argument, an
unknown option or command) prints ONE ``error:`` line naming what was wrong and exits 1; so does an
empty symbol list; a dropped database connection says so, whatever wrapped the error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from workbench.cli.errors import describe_failure
from workbench.services.embedded import free_port

CLI = [sys.executable, "-c", "from workbench.cli import main; main()"]


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI pointed at a port where no PostgreSQL listens: a command that got as far as connecting
    would fail with a different (PostgreSQL) error than the one pinned."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env.update({"WORKBENCH_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/nothing",
                "WORKBENCH_CACHE_ENABLED": "false", "WORKBENCH_DATA_DIR": str(tmp_path / "data"),
                "COLUMNS": "80"})
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)


@pytest.mark.parametrize(("args", "line"), [
    (["rerun", "abc"], "workbench rerun: invalid value for 'backtest_id': Input should be a valid integer, "
                       "unable to parse string as an integer (see `workbench rerun --help`)"),
    (["rerun"], "workbench rerun: missing argument 'backtest_id' (see `workbench rerun --help`)"),
    (["rerun", "1", "2"], "workbench rerun: got unexpected extra argument(s) (2) (see `workbench rerun --help`)"),
    (["backtest", "EmaCross", "--capital", "lots"],
     "workbench backtest: invalid value for '--capital': Input should be a valid number, unable to parse string "
     "as a number (see `workbench backtest --help`)"),
    (["backtest", "EmaCross", "--zzz", "1"],
     "workbench backtest: no such option: --zzz (see `workbench backtest --help`)"),
    (["sample", "--days", "x"], "workbench sample: invalid value for '--days': Input should be a valid integer, "
                                "unable to parse string as an integer (see `workbench sample --help`)"),
    (["db", "init", "extra"], "workbench db init: got unexpected extra argument(s) (extra) "
                              "(see `workbench db init --help`)"),
    (["db", "upgrade"], "workbench db: no such command 'upgrade' (see `workbench db --help`)"),
    (["nosuch"], "workbench: no such command 'nosuch' (see `workbench --help`)"),
    (["paper", "--replay", "2025-01-01"],
     "workbench paper: option '--replay' requires 2 arguments (see `workbench paper --help`)"),
    (["indicators", ""], "symbols: give at least one symbol, e.g. 'KRW-BTC' or 'KRW-BTC,KRW-ETH'"),
    (["indicators", " , "], "symbols: give at least one symbol, e.g. 'KRW-BTC' or 'KRW-BTC,KRW-ETH'"),
])
def test_misuse_is_one_line_and_exit_1(tmp_path: Path, args: list[str], line: str) -> None:
    r = _cli(tmp_path, *args)
    assert (r.returncode, r.stdout, r.stderr) == (1, "", f"error: {line}\n")


def test_a_group_without_a_command_shows_its_help(tmp_path: Path) -> None:
    r = _cli(tmp_path, "db")
    assert (r.returncode, r.stderr) == (0, "")
    assert [line.strip() for line in r.stdout.splitlines() if line.strip()][:2] == [
        "Usage: workbench db [OPTIONS] COMMAND [ARGS]...", "Database schema."]


@pytest.fixture
def dropped(db, database_url: str) -> sa.exc.DBAPIError:  # type: ignore[no-untyped-def]
    """The error of a statement on a connection the server has since terminated."""
    with db.engine.connect() as conn:
        pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(sa.exc.DBAPIError) as err:
            conn.execute(sa.text("SELECT 1"))
    return err.value


LOST = ("the database connection was lost: terminating connection due to administrator command; check that "
        "PostgreSQL is up and reachable (WORKBENCH_DATABASE_URL), then run the command again")


def test_a_dropped_connection_says_so(dropped: sa.exc.DBAPIError) -> None:
    assert describe_failure(dropped) == LOST


def test_a_dropped_connection_under_optunas_commit_message_says_so(dropped: sa.exc.DBAPIError) -> None:
    """Optuna's storage re-raises any SQLAlchemy error of a commit as StorageInternalError("An exception is
    raised during the commit ... invalid data ..."), from the original error."""
    import optuna

    try:
        raise optuna.exceptions.StorageInternalError(
            "An exception is raised during the commit. This typically happens due to invalid data in the "
            "commit, e.g. exceeding max length. ") from dropped
    except optuna.exceptions.StorageInternalError as err:
        assert describe_failure(err) == LOST
