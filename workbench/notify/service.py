"""What the ``workbench notify`` commands do, from :class:`~workbench.config.Settings`."""

from __future__ import annotations

import os
import socket
from typing import Any

from workbench.config import Settings
from workbench.notify.channels import Channel, EmailChannel, TelegramChannel
from workbench.store.database import Database
from workbench.store.notify_queue import EMAIL_QUEUE, TELEGRAM_QUEUE

__all__ = ["channels_from_settings", "default_worker_name", "redis_from_url"]


def channels_from_settings(settings: Settings) -> dict[str, Channel]:
    """The configured channels by queue: Telegram with a bot token, email with an SMTP host."""
    out: dict[str, Channel] = {}
    if settings.telegram_bot_token is not None:
        out[TELEGRAM_QUEUE] = TelegramChannel(settings.telegram_api_url,
                                              settings.telegram_bot_token.get_secret_value())
    if settings.smtp_host:
        out[EMAIL_QUEUE] = EmailChannel(settings.smtp_host, settings.smtp_port, settings.smtp_from)
    return out


def default_worker_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def redis_from_url(url: str) -> Any:
    """A ``redis.Redis`` client for the worker (blocking reads need a longer socket timeout)."""
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=2.0, socket_timeout=30.0)


def user_id_by_name(db: Database, username: str) -> int:
    """Id of an existing user; :class:`~workbench.errors.DataNotFoundError` if there is none."""
    from workbench.errors import DataNotFoundError
    from workbench.store.queries import query

    with db.connect() as conn:
        found = conn.execute(query("notify_user_id").text, {"username": username}).scalar()
    if found is None:
        raise DataNotFoundError(f"user {username!r}: no such user")
    return int(found)
