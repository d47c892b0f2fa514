"""``workbench users ...`` and ``workbench runs share``: accounts with argon2id hashes, the owner row of
WORKBENCH_USERNAME taken over, and runs seen by their owner and the users they were shared with."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from typer.testing import CliRunner

from workbench.app.accounts import authenticate
from workbench.cli import app
from workbench.core.strategies import EmaCross
from workbench.errors import WorkbenchError
from workbench.ingest.sample import generate_sample_candles
from workbench.store.runs import list_runs
from workbench.store.writer import write_table


def run(*args: str, input: str | None = None) -> str:
    result = CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def fails(*args: str, input: str | None = None) -> str:
    result = CliRunner().invoke(app, list(args), input=input)
    assert isinstance(result.exception, WorkbenchError), (result.exception, result.output)
    return str(result.exception)


def _table_rows(text: str) -> list[list[str]]:
    """The cells of a rich table's body rows."""
    return [[c.strip() for c in line.strip("│ ").split("│")] for line in text.splitlines()
            if line.startswith("│") and "username" not in line]


def _user(db: Any, name: str) -> dict[str, Any]:
    with db.begin() as conn:
        return dict(conn.execute(sa.text("SELECT * FROM users WHERE username = :n"), {"n": name}).mappings().one())


def test_users_add_list_disable_set_password(cli_env: dict[str, str], db: Any) -> None:
    assert run("users", "add", "alice", "--email", "alice@example.com", "--password-stdin",
               input="s3cret password\n") == "user alice added (id 1)\n"
    row = _user(db, "alice")
    assert row["hashed_password"].startswith("$argon2id$") and "s3cret" not in row["hashed_password"]
    assert PasswordHasher().verify(row["hashed_password"], "s3cret password")
    assert fails("users", "add", "alice", "--email", "other@example.com", "--password-stdin",
                 input="another password\n") == "user 'alice' exists already (use `workbench users set-password`)"
    assert fails("users", "add", "bob", "--email", "alice@example.com", "--password-stdin",
                 input="another password\n") == "email 'alice@example.com' is already used by another user"
    assert fails("users", "add", "bob", "--email", "bob@example.com", "--password-stdin",
                 input="short\n") == "password: at least 8 characters (got 5)"
    assert fails("users", "add", "bob", "--email", "nope", "--password-stdin",
                 input="long enough\n") == "email 'nope' is not an email address"
    assert authenticate(db, "alice", "s3cret password") is not None
    assert _user(db, "alice")["last_login"] is not None
    login_kst = _user(db, "alice")["last_login"].astimezone(ZoneInfo("Asia/Seoul")).strftime("%Y-%m-%d %H:%M KST")
    assert _table_rows(run("users", "list")) == [["alice", "alice@example.com", "yes", "yes", login_kst, "0"]]
    assert run("users", "disable", "alice") == "user alice disabled; 0 session(s) ended\n"
    assert authenticate(db, "alice", "s3cret password") is None
    assert run("users", "enable", "alice") == "user alice enabled\n"
    assert run("users", "set-password", "alice", "--password-stdin",
               input="brand new password\n") == "password of alice changed; 0 session(s) ended\n"
    assert authenticate(db, "alice", "s3cret password") is None
    assert authenticate(db, "alice", "brand new password") is not None
    assert fails("users", "disable", "nobody") == "no user named 'nobody' (see `workbench users list`)"


def test_the_owner_row_of_the_configured_user_is_taken_over(session: Any, cli_env: dict[str, str]) -> None:
    write_table(session.db, "candles", generate_sample_candles(days=3))
    owner = session.user_id                       # 'local', made without a password when it first ran
    bid = session.backtest(EmaCross(), "KRW-SYNBTC", "1h").backtest_id
    assert authenticate(session.db, "local", "") is None
    assert run("users", "add", "local", "--email", "me@example.com", "--password-stdin",
               input="my long password\n") == f"user local added (id {owner})\n"
    assert authenticate(session.db, "local", "my long password").id == owner
    assert list(list_runs(session.db, user_id=owner)["id"]) == [bid]


def test_a_user_sees_their_own_runs_and_those_shared_with_them(session: Any, cli_env: dict[str, str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    write_table(session.db, "candles", generate_sample_candles(days=3))
    mine = session.backtest(EmaCross(), "KRW-SYNBTC", "1h").backtest_id      # owned by 'local'
    other = session.backtest(EmaCross(fast=5), "KRW-SYNETH", "1h").backtest_id
    for name in ("bob", "carol"):
        run("users", "add", name, "--email", f"{name}@example.com", "--password-stdin", input="long password\n")
    assert run("runs", "share", str(mine), "--with", "bob") == f"backtest {mine} shared with bob\n"
    assert run("runs", "share", str(mine), "--with", "bob") == f"backtest {mine} shared with bob\n"  # idempotent
    assert fails("runs", "share", str(mine), "--with", "nobody") == \
        "no user named 'nobody' to share with (see `workbench users list`)"
    monkeypatch.setenv("WORKBENCH_USERNAME", "bob")
    out = run("runs")
    assert [int(r[0]) for r in _table_rows(out) if r[0].isdigit()] == [mine]
    assert fails("runs", "share", str(mine), "--with", "carol") == \
        f"backtest {mine} is not yours to share (it belongs to another user)"
    monkeypatch.setenv("WORKBENCH_USERNAME", "carol")
    assert run("runs") == "no stored runs\n"
    monkeypatch.setenv("WORKBENCH_USERNAME", "local")
    assert [int(r[0]) for r in _table_rows(run("runs")) if r[0].isdigit()] == [other, mine]
    ids = {name: _user(session.db, name)["id"] for name in ("bob", "carol")}
    assert list(list_runs(session.db, user_id=ids["bob"])["owner"]) == ["local"]
    assert list_runs(session.db, user_id=ids["carol"]).empty
