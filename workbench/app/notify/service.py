"""What the ``workbench notify`` commands do, from :class:`~workbench.services.config.Settings`."""

from __future__ import annotations

import os
import socket
import ssl
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.app.notify.channels import Channel, EmailChannel, TelegramChannel
from workbench.app.notify.queue import EMAIL_QUEUE, TELEGRAM_QUEUE
from workbench.errors import ConfigError
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
        password = settings.smtp_password.get_secret_value() if settings.smtp_password is not None else None
        context = _ssl_context(settings.smtp_ca_file) if settings.smtp_ca_file else None
        out[EMAIL_QUEUE] = EmailChannel(settings.smtp_host, settings.smtp_port, settings.smtp_from,
                                        user=settings.smtp_user, password=password, starttls=settings.smtp_starttls,
                                        ssl_context=context)
    return out


def _ssl_context(ca_file: Path) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=str(ca_file))
    except (OSError, ssl.SSLError) as err:
        raise ConfigError(f"WORKBENCH_SMTP_CA_FILE {str(ca_file)[:200]!r}: not a readable PEM file of CA "
                          f"certificates ({type(err).__name__})") from None


def default_worker_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def redis_from_url(url: str) -> Redis:
    """A ``redis.Redis`` client for the worker (blocking reads need a longer socket timeout)."""
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=2.0, socket_timeout=30.0)

