"""Embedded PostgreSQL and Redis servers for the zero-setup default, and the settings.

Names are imported on first use: a light module of the package (:mod:`workbench.services.environ`) costs
no server or settings machinery.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "EmbeddedPostgres": "workbench.services.embedded",
    "EmbeddedRedis": "workbench.services.embedded",
    "ServiceInfo": "workbench.services.embedded",
    "ResolvedUrls": "workbench.services.resolve",
    "resolve_urls": "workbench.services.resolve",
    "stop_embedded": "workbench.services.resolve",
}

__all__ = [
    "EmbeddedPostgres",
    "EmbeddedRedis",
    "ResolvedUrls",
    "ServiceInfo",
    "resolve_urls",
    "stop_embedded",
]

if TYPE_CHECKING:
    from workbench.services.embedded import EmbeddedPostgres, EmbeddedRedis, ServiceInfo
    from workbench.services.resolve import ResolvedUrls, resolve_urls, stop_embedded


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'workbench.services' has no attribute {name!r}")
