"""Which monitoring alarms are raised, kept in Redis so an alarm is told once while its condition holds::

    monitor:alarms    HASH check key -> JSON {"text", "since"} of each alarm being raised

:func:`raise_alarm` and :func:`clear_alarm` are single atomic commands: of two checks running at once,
one raises (or clears) and the other sees it done. Every function takes a ``redis.Redis`` client.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import redis

__all__ = ["ALARMS_KEY", "active_alarms", "clear_alarm", "raise_alarm"]

ALARMS_KEY: Final = "monitor:alarms"


def raise_alarm(client: redis.Redis, key: str, text: str, since: str) -> bool:
    """Record alarm ``key``; True when it was not raised before (tell the users), False while it holds."""
    return bool(client.hsetnx(ALARMS_KEY, key, json.dumps({"text": text, "since": since})))


def clear_alarm(client: redis.Redis, key: str) -> dict[str, str] | None:
    """Forget alarm ``key``; what it said (``text``, ``since``) when it was raised, None when it was not."""
    raw = client.hget(ALARMS_KEY, key)
    if raw is None or not client.hdel(ALARMS_KEY, key):
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        value = {}
    return {"text": str(value.get("text", "")), "since": str(value.get("since", ""))}


def active_alarms(client: redis.Redis) -> dict[str, dict[str, str]]:
    """Every raised alarm: key -> ``{"text", "since"}``, by key."""
    out = {}
    for raw_key, raw in client.hgetall(ALARMS_KEY).items():
        key = raw_key.decode() if isinstance(raw_key, bytes) else str(raw_key)
        try:
            value = json.loads(raw)
        except ValueError:
            value = {}
        out[key] = {"text": str(value.get("text", "")), "since": str(value.get("since", ""))}
    return dict(sorted(out.items()))
