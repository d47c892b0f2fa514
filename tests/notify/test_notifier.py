"""notify(): the user's bounded list and the delivery queues chosen by the user's preferences."""

from __future__ import annotations

import json
import warnings

import pytest

from workbench.app.notify import Notification, NotificationWarning, list_notifications, notify
from workbench.store.cache import RedisCache


class Ctx:
    def __init__(self, db, cache, user_id):
        self.db, self.cache, self.user_id = db, cache, user_id


def _user(db, name, email, *, telegram=False, chat=None, mail=True):
    with db.begin() as conn:
        return conn.exec_driver_sql(
            "INSERT INTO users (username, email, hashed_password, telegram_notifications, telegram_chat_id, "
            "email_notifications) VALUES (%s, %s, '!', %s, %s, %s) RETURNING id",
            (name, email, telegram, chat, mail)).scalar_one()


def test_notification_goes_to_the_list_and_the_chosen_channels(db, redis_cache):
    uid = _user(db, "ann", "ann@example.com", telegram=True, chat="4242")
    note = notify(Ctx(db, redis_cache, uid), "sweep_finished", "sweep done", sweep_id="abc", combinations=12)
    assert isinstance(note, Notification)
    assert note.queued == ("telegram_queue", "email_queue")
    r = redis_cache.client
    stored = json.loads(r.lindex(f"notifications:{uid}", 0))
    assert stored == {"id": note.id, "user_id": uid, "kind": "sweep_finished", "text": "sweep done",
                      "created": note.created, "data": {"sweep_id": "abc", "combinations": 12}}
    tg = json.loads(r.lindex("telegram_queue", 0))
    assert tg == {"id": note.id, "user_id": uid, "kind": "sweep_finished", "text": "sweep done",
                  "created": note.created, "to": "4242", "attempts": 0}
    mail = json.loads(r.lindex("email_queue", 0))
    assert mail["to"] == "ann@example.com" and mail["id"] == note.id
    assert list_notifications(r, uid) == [Notification.from_json(r.lindex(f"notifications:{uid}", 0))]


@pytest.mark.parametrize(("telegram", "chat", "mail", "email", "queued"), [
    (False, None, True, "bo@example.com", ("email_queue",)),
    (True, None, False, "bo@example.com", ()),             # Telegram chosen but no chat id
    (True, "7", False, "bo@example.com", ("telegram_queue",)),
    (False, None, True, "bo@localhost", ()),               # the placeholder address of ensure_user
])
def test_preferences_pick_the_queues(db, redis_cache, telegram, chat, mail, email, queued):
    uid = _user(db, "bo", email, telegram=telegram, chat=chat, mail=mail)
    note = notify(Ctx(db, redis_cache, uid), "paper_fill", "filled")
    assert note is not None and note.queued == queued
    r = redis_cache.client
    assert (r.llen("telegram_queue"), r.llen("email_queue")) == (int("telegram_queue" in queued),
                                                                 int("email_queue" in queued))
    assert r.llen(f"notifications:{uid}") == 1


def test_kinds_not_delivered_stay_in_the_list(db, redis_cache):
    uid = _user(db, "cy", "cy@example.com", telegram=True, chat="1")
    note = notify(Ctx(db, redis_cache, uid), "paper_order_rejected", "rejected")
    assert note is not None and note.queued == ()
    assert redis_cache.client.llen("telegram_queue") == 0 and redis_cache.client.llen("email_queue") == 0


def test_the_list_keeps_the_newest_200(db, redis_cache):
    uid = _user(db, "di", "di@localhost")
    ctx = Ctx(db, redis_cache, uid)
    for i in range(205):
        notify(ctx, "paper_error", f"n{i}")
    notes = list_notifications(redis_cache.client, uid, limit=1000)
    assert [n.text for n in notes] == [f"n{i}" for i in range(204, 4, -1)]
    assert [n.text for n in list_notifications(redis_cache.client, uid, limit=3)] == ["n204", "n203", "n202"]


def test_a_failing_notification_warns_and_never_raises(db):
    dead = RedisCache.from_url("redis://127.0.0.1:1/0")   # nothing listens on port 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert notify(Ctx(db, dead, 1), "sweep_finished", "x") is None
    assert [w.category for w in caught] == [NotificationWarning]
    assert str(caught[0].message).startswith("notification 'sweep_finished' not sent (ConnectionError")


def test_no_redis_means_no_notification(db):
    from workbench.store.cache import NullCache

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert notify(Ctx(db, NullCache(), 1), "sweep_finished", "x") is None
