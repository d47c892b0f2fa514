"""Notifications: events of the workbench's runs for their users (:func:`notify`), kept in
``notifications:{user_id}`` and delivered by Telegram and email (:mod:`workbench.app.notify.worker`).

Names are imported on first use: the worker (``workbench notify worker``) needs none of the database
code behind :func:`notify`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_EXPORTS = {name: "workbench.app.notify.notifier" for name in (
    "DELIVERED_KINDS", "Notification", "NotificationWarning", "NotifyContext", "list_notifications", "notify",
    "user_id_by_name")}

__all__ = ["DELIVERED_KINDS", "Notification", "NotificationWarning", "NotifyContext", "list_notifications",
           "notify", "user_id_by_name"]

if TYPE_CHECKING:
    from workbench.app.notify.notifier import (
        DELIVERED_KINDS,
        Notification,
        NotificationWarning,
        NotifyContext,
        list_notifications,
        notify,
        user_id_by_name,
    )


def __getattr__(name: str) -> object:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'workbench.app.notify' has no attribute {name!r}")
