"""User accounts: add, list, disable, change passwords (argon2id hashes), check a login.

``users`` rows are the owners of strategies, runs and paper runs (``WORKBENCH_USERNAME`` in the CLI and
notebooks; the logged-in user in the portal). Disabling a user or changing their password ends all of
their sessions at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import pandas as pd

from workbench.errors import ValidationError
from workbench.store import users as store
from workbench.store.database import Database
from workbench.store.sessions import SessionStore

if TYPE_CHECKING:
    import redis
    from argon2 import PasswordHasher

__all__ = ["MIN_PASSWORD_LENGTH", "Account", "add_user", "authenticate", "check_new_user", "disable_user",
           "enable_user", "hash_password", "list_users", "set_password", "share_run", "verify_password"]

MIN_PASSWORD_LENGTH = 8
_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{1,50}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


@cache
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher, Type

    return PasswordHasher(type=Type.ID)   # argon2id with the library's (RFC 9106 low-memory) parameters


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (at least :data:`MIN_PASSWORD_LENGTH` characters)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"password: at least {MIN_PASSWORD_LENGTH} characters (got {len(password)})")
    return _hasher().hash(password)


def verify_password(hashed: str, password: str) -> bool:
    """Whether ``password`` matches the argon2 ``hashed`` (False for a malformed or no-login hash)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(_hasher().verify(hashed, password))
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    return _hasher().hash("not-a-password-of-anyone")


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    username: str


def _check_username(username: str) -> str:
    if not _USERNAME.match(username):
        raise ValidationError(f"user name {username[:60]!r}: 1-50 letters, digits, '.', '_' or '-'")
    return username


def check_new_user(username: str, email: str) -> None:
    """ValidationError unless ``username`` and ``email`` are acceptable (before asking for a password)."""
    _check_username(username)
    if not _EMAIL.match(email) or len(email) > 100:
        raise ValidationError(f"email {email[:100]!r} is not an email address")


def add_user(db: Database, username: str, email: str, password: str) -> int:
    """Create a user who can log in; returns the id. The owner row of ``WORKBENCH_USERNAME`` (made without a
    password when the user first ran something) is taken over, keeping its strategies and runs."""
    check_new_user(username, email)
    return store.insert_user(db, username, email, hash_password(password))


def list_users(db: Database) -> pd.DataFrame:
    return store.list_users(db)


def set_password(db: Database, redis_client: redis.Redis | None, username: str, password: str) -> int:
    """New password for the user; their sessions end. Returns how many sessions were ended."""
    uid = store.set_password_hash(db, username, hash_password(password))
    return SessionStore(db, redis_client).revoke_user(uid)


def disable_user(db: Database, redis_client: redis.Redis | None, username: str) -> int:
    """The user can no longer log in and their sessions end at once. Returns how many sessions were ended."""
    uid = store.set_active(db, username, False)
    return SessionStore(db, redis_client).revoke_user(uid)


def enable_user(db: Database, username: str) -> None:
    store.set_active(db, username, True)


def authenticate(db: Database, username: str, password: str) -> Account | None:
    """The account if ``username`` is an active user with this password, else None (the same work is done
    for unknown users, so timing does not tell which names exist). Records ``last_login`` on success."""
    row = store.get_user(db, username) if _USERNAME.match(username) else None
    if row is None or row.hashed_password == store.NO_PASSWORD:
        verify_password(_dummy_hash(), password)
        return None
    if not verify_password(row.hashed_password, password) or not row.is_active:
        return None
    if _hasher().check_needs_rehash(row.hashed_password):
        store.set_password_hash(db, username, _hasher().hash(password))
    store.record_login(db, row.id)
    return Account(row.id, row.username)


def share_run(db: Database, backtest_id: int, *, owner_id: int, username: str) -> None:
    """Share the stored run ``backtest_id`` of ``owner_id`` with the user ``username``."""
    from workbench.store.runs import share_run as store_share

    row = store.get_user(db, username)
    if row is None:
        raise ValidationError(f"no user named {username!r} to share with (see `workbench users list`)")
    store_share(db, backtest_id, owner_id=owner_id, user_id=row.id)
