"""A pool of one connection is enough: work under a session-level advisory lock runs on the lock's own
(pinned) connection instead of waiting for a second one."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa

from workbench.core.strategies import EmaCross
from workbench.store.database import Database
from workbench.store.locks import advisory_lock, lock_key
from workbench.store.runs import ensure_user, save_strategy


@pytest.fixture
def one(db: Database, database_url: str) -> Iterator[Database]:
    """The emptied test database behind a pool of exactly one connection that gives up after 1 s."""
    small = Database(database_url, pool_size=1, max_overflow=0, pool_timeout=1.0)
    yield small
    small.dispose()


def _lock_free(url: str, key: int) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        got = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        if got and got[0]:
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
        return bool(got and got[0])


def test_work_under_an_advisory_lock_needs_no_second_connection(one: Database, database_url: str) -> None:
    key = lock_key(uuid.uuid4())
    with advisory_lock(one, key):
        uid = ensure_user(one, "pool-of-one")            # each its own transaction on the lock's connection
        sid = save_strategy(one, uid, EmaCross(fast=5, slow=13))
        assert not _lock_free(database_url, key)          # still held by this process
    assert _lock_free(database_url, key)
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT s.id, s.name, u.username FROM strategies s JOIN users u ON u.id = s.user_id"
                            ).fetchall()
    assert rows == [(sid, "EmaCross", "pool-of-one")]


def test_a_failed_transaction_on_the_pinned_connection_is_rolled_back_alone(one: Database,
                                                                             database_url: str) -> None:
    key = lock_key(uuid.uuid4())
    with advisory_lock(one, key):
        ensure_user(one, "kept")
        with pytest.raises(sa.exc.IntegrityError), one.begin() as conn:
            conn.execute(sa.text("INSERT INTO users (username, email) VALUES ('gone', 'g@localhost')"))
            conn.execute(sa.text("INSERT INTO users (username, email) VALUES ('gone', 'g@localhost')"))
        ensure_user(one, "also kept")
    assert _lock_free(database_url, key)
    with psycopg.connect(database_url) as conn:
        names = [r[0] for r in conn.execute("SELECT username FROM users ORDER BY id").fetchall()]
    assert names == ["kept", "also kept"]


def test_the_lock_is_released_when_the_block_fails(one: Database, database_url: str) -> None:
    key = lock_key(uuid.uuid4())
    with pytest.raises(ZeroDivisionError), advisory_lock(one, key):
        with one.begin() as conn:
            conn.execute(sa.text("SELECT 1"))
        1 / 0  # noqa: B018
    assert _lock_free(database_url, key)
    with one.begin() as conn:                             # the pool's one connection is back
        assert conn.execute(sa.text("SELECT 2")).scalar() == 2


def test_another_thread_does_not_use_the_pinned_connection(one: Database) -> None:
    """The pin is per thread: another thread's begin() waits for the pool (here: times out after 1 s),
    it never runs a transaction on a connection that this thread is using."""
    key = lock_key(uuid.uuid4())
    errors: list[BaseException] = []

    def other() -> None:
        try:
            with one.begin() as conn:
                conn.execute(sa.text("SELECT 1"))
        except BaseException as err:   # recorded for the assert below
            errors.append(err)

    with advisory_lock(one, key):
        t = threading.Thread(target=other)
        t.start()
        t.join(30)
    assert len(errors) == 1 and isinstance(errors[0], sa.exc.TimeoutError)


def test_a_begin_nested_in_a_begin_still_takes_a_second_connection(one: Database) -> None:
    """What the code must not do (and a pool of one shows at once): hold a transaction while it asks for
    another."""
    with pytest.raises(sa.exc.TimeoutError), one.begin(), one.begin():
        pass
