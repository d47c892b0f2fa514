"""Embedded PostgreSQL and Redis servers for the zero-setup default."""

from workbench.services.embedded import (
    EmbeddedPostgres,
    EmbeddedRedis,
    ServiceInfo,
)
from workbench.services.resolve import ResolvedUrls, resolve_urls, stop_embedded

__all__ = [
    "EmbeddedPostgres",
    "EmbeddedRedis",
    "ResolvedUrls",
    "ServiceInfo",
    "resolve_urls",
    "stop_embedded",
]
