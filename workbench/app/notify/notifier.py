"""The one way an event becomes a notification: :func:`notify`.

A notification goes onto the user's bounded list ``notifications:{user_id}`` (newest 200) and, for the
kinds in :data:`DELIVERED_KINDS`, onto ``telegram_queue`` (when the user has ``telegram_notifications``
and a ``telegram_chat_id``) and ``email_queue`` (when the user has ``email_notifications`` and a real
address; the ``name@localhost`` placeholder of users made by the workbench itself gets no mail), all in
one Redis transaction. :func:`notify` never raises: a failure is a :class:`NotificationWarning` and the
operation that notified goes on.
"""

from __future__ import annotations

import json
import uuid
import warnings
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from workbench.app.context import SessionContext
from workbench.app.notify.queue import EMAIL_QUEUE, TELEGRAM_QUEUE, notifications_key, push_notification
from workbench.errors import DataNotFoundError
from workbench.store.database import Database
from workbench.store.paper_keys import redis_client
from workbench.store.queries import Q, query

if TYPE_CHECKING:
    from redis import Redis

__all__ = ["DELIVERED_KINDS", "Notification", "NotificationWarning", "NotifyContext", "list_notifications",
           "notify", "user_id_by_name"]

#: kinds that are also sent by Telegram / email (the others are kept in the list only)
DELIVERED_KINDS: Final = frozenset({
    "report_finished", "sweep_finished", "optimize_finished", "paper_fill", "paper_run_stopped",
    "paper_run_failed", "paper_run_finished", "quality_alarm", "monitor_alarm", "monitor_recovered", "test",
})

Scalar = str | int | float | bool | None


class NotificationWarning(UserWarning):
    """A notification could not be stored or queued; the operation that sent it went on."""


#: what notify needs of a connected workbench: :class:`workbench.app.context.SessionContext`
NotifyContext = SessionContext


@dataclass(frozen=True, slots=True)
class Notification:
    """One event for one user."""

    id: str
    user_id: int
    kind: str
    text: str
    created: str
    data: dict[str, Scalar] = field(default_factory=dict)
    #: the delivery queues it went to (not stored)
    queued: tuple[str, ...] = ()

    def to_json(self) -> str:
        value = asdict(self)
        del value["queued"]
        return json.dumps(value, default=str, sort_keys=True)

    @classmethod
    def from_json(cls, raw: str | bytes) -> Notification:
        value = json.loads(raw)
        return cls(id=str(value["id"]), user_id=int(value["user_id"]), kind=str(value["kind"]),
                   text=str(value["text"]), created=str(value["created"]), data=dict(value.get("data") or {}))


def _message(note: Notification, to: str) -> str:
    """A queue message: the notification and its destination (chat id or address), 0 attempts so far."""
    return json.dumps({"id": note.id, "user_id": note.user_id, "kind": note.kind, "text": note.text,
                       "created": note.created, "to": to, "attempts": 0}, sort_keys=True)


def _deliveries(db: Database, note: Notification) -> dict[str, str]:
    if note.kind not in DELIVERED_KINDS:
        return {}
    with db.begin() as conn:
        row = conn.execute(query(Q.NOTIFY_RECIPIENT).text, {"user_id": note.user_id}).mappings().first()
    if row is None:
        return {}
    out = {}
    if row["telegram_notifications"] and row["telegram_chat_id"]:
        out[TELEGRAM_QUEUE] = _message(note, str(row["telegram_chat_id"]))
    email = str(row["email"] or "")
    if row["email_notifications"] and "@" in email and not email.lower().endswith("@localhost"):
        out[EMAIL_QUEUE] = _message(note, email)
    return out


def notify(ctx: NotifyContext, kind: str, text: str, *, user_id: int | None = None,
           **data: Scalar) -> Notification | None:
    """Record an event for ``user_id`` (default: the context's user) and queue its deliveries.

    Returns the notification, or None when it could not be recorded (no Redis, an error: warned as
    :class:`NotificationWarning`, never raised).
    """
    try:
        client = redis_client(ctx.cache)
        if client is None:
            return None   # no Redis configured (cache off): nowhere to keep notifications
        uid = ctx.user_id if user_id is None else user_id
        note = Notification(id=uuid.uuid4().hex, user_id=uid, kind=kind, text=text,
                            created=datetime.now(UTC).isoformat(timespec="seconds"), data=dict(data))
        deliveries = _deliveries(ctx.db, note)
        push_notification(client, uid, note.to_json(), deliveries)
        return replace(note, queued=tuple(deliveries))
    except Exception as err:
        warnings.warn(f"notification {kind!r} not sent ({type(err).__name__}: {err}); the operation goes on",
                      NotificationWarning, stacklevel=2)
        return None


def list_notifications(client: Redis, user_id: int, limit: int = 50) -> list[Notification]:
    """The user's newest ``limit`` notifications, newest first (``client``: a ``redis.Redis``)."""
    if limit < 1:
        return []
    out = []
    for raw in client.lrange(notifications_key(user_id), 0, limit - 1):
        try:
            out.append(Notification.from_json(raw))
        except (ValueError, KeyError, TypeError):
            continue
    return out


def user_id_by_name(db: Database, username: str) -> int:
    """Id of an existing user; :class:`~workbench.errors.DataNotFoundError` if there is none."""
    with db.begin() as conn:
        found = conn.execute(query(Q.NOTIFY_USER_ID).text, {"username": username}).scalar()
    if found is None:
        raise DataNotFoundError(f"user {username!r}: no such user")
    return int(found)
