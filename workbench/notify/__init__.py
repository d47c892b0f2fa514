"""Notifications: events of the workbench's runs for their users (:func:`notify`), kept in
``notifications:{user_id}`` and delivered by Telegram and email (:mod:`workbench.notify.worker`)."""

from workbench.notify.notifier import (
    DELIVERED_KINDS,
    Notification,
    NotificationWarning,
    NotifyContext,
    list_notifications,
    notify,
)

__all__ = ["DELIVERED_KINDS", "Notification", "NotificationWarning", "NotifyContext", "list_notifications",
           "notify"]
