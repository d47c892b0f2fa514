"""The only reader/writer of ``users`` rows as accounts (name, email, password hash, active, last login).

Passwords arrive here already hashed (``workbench.app.accounts`` hashes them); ``'!'`` is the hash of a user
that cannot log in (the owner rows :func:`workbench.store.runs.ensure_user` creates).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from workbench.errors import DataNotFoundError, ValidationError
from workbench.store.database import Database
from workbench.store.queries import Q, query

__all__ = ["NO_PASSWORD", "UserRow", "get_user", "insert_user", "list_users", "record_login", "set_active",
           "set_password_hash"]

#: ``hashed_password`` of a user without a password (no login possible)
NO_PASSWORD = "!"  # noqa: S105 (a marker, not a password)


@dataclass(frozen=True, slots=True)
class UserRow:
    id: int
    username: str
    email: str
    hashed_password: str
    is_active: bool
    created_at: datetime | None
    last_login: datetime | None


def insert_user(db: Database, username: str, email: str, hashed_password: str) -> int:
    """Create a user (or give the password-less owner row of that name its email and password); an
    existing user with a password is an error."""
    from sqlalchemy.exc import IntegrityError

    try:
        with db.begin() as conn:
            uid = conn.execute(query(Q.USER_INSERT).text, {"username": username, "email": email,
                                                           "hashed_password": hashed_password}).scalar()
    except IntegrityError:
        raise ValidationError(f"email {email!r} is already used by another user") from None
    if uid is None:
        raise ValidationError(f"user {username!r} exists already (use `workbench users set-password`)")
    return int(uid)


def get_user(db: Database, username: str) -> UserRow | None:
    with db.begin() as conn:
        row = conn.execute(query(Q.USER_GET).text, {"username": username}).mappings().first()
    if row is None:
        return None
    return UserRow(row["id"], row["username"], row["email"], row["hashed_password"], bool(row["is_active"]),
                   row["created_at"], row["last_login"])


def list_users(db: Database) -> pd.DataFrame:
    """``id username email is_active can_log_in created_at last_login active_sessions``, by name."""
    with db.begin() as conn:
        result = conn.execute(query(Q.USER_LIST).text)
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def set_password_hash(db: Database, username: str, hashed_password: str) -> int:
    with db.begin() as conn:
        uid = conn.execute(query(Q.USER_SET_PASSWORD).text, {"username": username,
                                                             "hashed_password": hashed_password}).scalar()
    if uid is None:
        raise DataNotFoundError(f"no user named {username!r} (see `workbench users list`)")
    return int(uid)


def set_active(db: Database, username: str, active: bool) -> int:
    with db.begin() as conn:
        uid = conn.execute(query(Q.USER_SET_ACTIVE).text, {"username": username, "active": active}).scalar()
    if uid is None:
        raise DataNotFoundError(f"no user named {username!r} (see `workbench users list`)")
    return int(uid)


def record_login(db: Database, user_id: int) -> None:
    """``last_login`` = now."""
    with db.begin() as conn:
        conn.execute(query(Q.USER_LAST_LOGIN).text, {"user_id": user_id})
