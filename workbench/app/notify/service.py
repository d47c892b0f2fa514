"""What the ``workbench notify`` commands do, from :class:`~workbench.services.config.Settings`."""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING

from workbench.app.notify.channels import Channel, EmailChannel, TelegramChannel
from workbench.app.notify.queue import EMAIL_QUEUE, TELEGRAM_QUEUE
from workbench.services.config import Settings

if TYPE_CHECKING:
    from redis import Redis

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


def redis_from_url(url: str) -> Redis:
    """A ``redis.Redis`` client for the worker (blocking reads need a longer socket timeout)."""
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=2.0, socket_timeout=30.0)

